#include "parley.h"

const char *parley_strerror(int err)
{
    switch (err) {
    case PARLEY_OK: return "success";
    case PARLEY_ERR_INVALID_ARG: return "invalid argument";
    case PARLEY_ERR_NOMEM: return "out of memory";
    case PARLEY_ERR_STATE: return "not allowed in the client's current state";
    case PARLEY_ERR_AGAIN: return "no event available";
    case PARLEY_ERR_CONFIG: return "configuration incomplete or invalid";
    case PARLEY_ERR_INSECURE: return "ws:// refused: insecure connections are not allowed";
    case PARLEY_ERR_TOO_LONG: return "value exceeds its limit";
    case PARLEY_ERR_IO: return "local storage error";
    case PARLEY_ERR_TLS: return "TLS handshake or certificate verification failed";
    case PARLEY_ERR_CONNECT: return "server unreachable";
    case PARLEY_ERR_PROTOCOL: return "malformed data from the server";
    case PARLEY_ERR_AUTH: return "the server refused the user's identity";
    case PARLEY_ERR_NOT_FOUND: return "not found";
    case PARLEY_ERR_FULL: return "outbox or attribute table is full";
    case PARLEY_ERR_REJECTED: return "rejected by the server";
    case PARLEY_ERR_THREAD: return "could not start a thread";
    case PARLEY_ERR_CLOSED: return "connection closed";
    case PARLEY_ERR_OFFLINE: return "not connected";
    case PARLEY_ERR_CONSENT: return "sending context is not allowed (parley_set_consent)";
    case PARLEY_ERR_RANGE: return "value outside the allowed range";
    case PARLEY_ERR_INCOMPLETE: return "a required answer is missing";
    default: return "unknown error";
    }
}
