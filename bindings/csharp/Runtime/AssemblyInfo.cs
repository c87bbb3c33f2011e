using System.Runtime.CompilerServices;

// The tests compare the generated manifest (Api) and the omissions with the assembly.
[assembly: InternalsVisibleTo("Parley.Tests")]
