package io.layerswarm.registry;

import java.util.List;

/**
 * The registry's answer to a {@link RegistryClient#checkAccess} probe.
 *
 * @param status the HTTP status (401/403: the credentials were not accepted)
 * @param challenges the {@code WWW-Authenticate} headers, as sent
 */
public record AccessReply(int status, List<String> challenges) {
    /** Copies the list. */
    public AccessReply {
        challenges = List.copyOf(challenges);
    }

    /** Whether the registry refused the credentials (401 or 403). */
    public boolean refused() {
        return status == 401 || status == 403;
    }
}
