package io.layerswarm.mirror;

import java.util.List;

/**
 * Whether a mirror client may read what it asked for, and if not, what it is told: 401 with the
 * upstream registry's challenges (so it authenticates where the upstream says), 404, or 503 when its
 * credentials cannot be checked.
 *
 * @param status 200 when granted, else the HTTP status to answer
 * @param challenges {@code WWW-Authenticate} values for a 401
 * @param message the error message for a refusal
 */
public record Access(int status, List<String> challenges, String message) {
    /** Anyone may read it. */
    public static final Access GRANTED = new Access(200, List.of(), "");

    /** Copies the list. */
    public Access {
        challenges = List.copyOf(challenges);
    }

    /** 401: credentials are missing or the upstream did not accept them. */
    public static Access unauthorized(List<String> challenges, String message) {
        return new Access(401, challenges, message);
    }

    /** 404: not there for this client. */
    public static Access notFound(String message) {
        return new Access(404, List.of(), message);
    }

    /** 503: the credentials cannot be checked now (upstream unreachable). */
    public static Access unavailable(String message) {
        return new Access(503, List.of(), message);
    }

    /** Whether the request may be served. */
    public boolean granted() {
        return status == 200;
    }
}
