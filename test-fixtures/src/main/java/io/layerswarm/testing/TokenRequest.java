package io.layerswarm.testing;

import java.util.List;

/**
 * One request the fixture's token server answered.
 *
 * @param user the authenticated user, {@code ""} for anonymous, {@code <rejected>} for bad credentials
 * @param scopes the scopes asked for, e.g. {@code repository:foo:pull,push}
 * @param status the HTTP status returned
 */
public record TokenRequest(String user, List<String> scopes, int status) {
    /** Copies. */
    public TokenRequest {
        scopes = List.copyOf(scopes);
    }
}
