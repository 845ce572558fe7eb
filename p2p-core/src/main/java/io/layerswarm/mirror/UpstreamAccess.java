package io.layerswarm.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.AccessReply;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.RegistryException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may read what through the mirror of one upstream: a repository anonymous clients can read
 * upstream is open to every client; a private one (the node reads it with its own credentials) only
 * to clients whose {@code Authorization} the upstream accepts for that repository, checked with a
 * {@code HEAD} upstream and remembered for {@link #TTL} per (repository, credential). A client without
 * credentials gets the upstream's own challenge, so it authenticates where the upstream says (a
 * token realm, or Basic). A node without upstream credentials holds nothing private and checks
 * nothing.
 */
public final class UpstreamAccess {
    /** How long a decision about a repository or a credential is kept. */
    public static final Duration TTL = Duration.ofSeconds(60);
    /** Decisions kept at most, per kind. */
    public static final long MAX_ENTRIES = 10_000;
    private static final Logger log = LoggerFactory.getLogger(UpstreamAccess.class);

    private final RegistryClient upstream;
    private final RegistryClient anonymous;
    private final PrivateBlobs privateBlobs;
    private final Cache<String, Boolean> anonymousReads = decisions();
    private final Cache<String, AccessReply> grants = decisions();
    private final Cache<String, List<String>> challenges = decisions();
    /** Repositories seen needing credentials, kept longer: while the upstream is down they stay closed. */
    private final Cache<String, Boolean> knownPrivate = Caffeine.newBuilder().maximumSize(MAX_ENTRIES).build();

    /**
     * @param upstream the node's client of the upstream (its credentials are never used for a client's check)
     * @param privateBlobs where blobs of private repositories are marked
     */
    public UpstreamAccess(RegistryClient upstream, PrivateBlobs privateBlobs) {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.anonymous = upstream.anonymous();
        this.privateBlobs = Objects.requireNonNull(privateBlobs, "privateBlobs");
    }

    private static <V> Cache<String, V> decisions() {
        return Caffeine.newBuilder().expireAfterWrite(TTL).maximumSize(MAX_ENTRIES).build();
    }

    /**
     * Whether content of {@code repository} fetched now must be kept private: the node reads it with
     * credentials anonymous clients lack (or did so before and the upstream cannot be asked now).
     */
    public boolean needsCredentials(String repository, String resource) {
        if (!upstream.hasCredentials()) {
            return false;
        }
        return anonymousReadable(repository, resource).map(open -> !open)
                .orElse(knownPrivate.getIfPresent(repository) != null);
    }

    /**
     * Decides a mirror client's request.
     *
     * @param resource {@code manifests/<reference>} or {@code blobs/<digest>}
     * @param authorization the client's {@code Authorization} header, if any
     */
    public Access check(String repository, String resource, Optional<String> authorization) {
        if (!upstream.hasCredentials()) {
            return Access.GRANTED;
        }
        Optional<Digest> blob = resource.startsWith("blobs/")
                ? Optional.of(Digest.parse(resource.substring("blobs/".length()))) : Optional.empty();
        boolean privateBlob = blob.isPresent() && privateBlobs.contains(blob.get());
        Optional<Boolean> open = anonymousReadable(repository, resource);
        if (open.orElse(knownPrivate.getIfPresent(repository) == null && !privateBlob)) {
            if (privateBlob) {
                return openCopyOfPrivateBlob(repository, blob.get(), open.isPresent());
            }
            return Access.GRANTED;
        }
        if (open.isPresent()) {
            knownPrivate.put(repository, Boolean.TRUE);
        }
        String key = authorization.map(a -> repository + " " + Digest.sha256(a.getBytes(StandardCharsets.UTF_8)).hex()).orElse(null);
        AccessReply cached = key == null ? null : grants.getIfPresent(key);
        if (open.isEmpty() && cached == null) {
            return Access.unavailable("cannot check credentials for private repository " + repository
                    + ": upstream " + upstream.baseUri() + " unreachable");
        }
        if (authorization.isEmpty()) {
            return Access.unauthorized(challenge(repository, resource),
                    "authentication required: repository " + repository + " is private upstream");
        }
        AccessReply r = cached;
        if (r == null) {
            try {
                r = upstream.checkAccess(repository, resource, authorization);
            } catch (IOException e) {
                return Access.unavailable("cannot check credentials for " + repository + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                // a header value the HTTP client refuses to send (control characters): no credentials at all
                return Access.unauthorized(challenge(repository, resource), "malformed credentials");
            }
            if (r.status() >= 500) {
                return Access.unavailable("cannot check credentials for " + repository + ": upstream answered "
                        + r.status());
            }
            grants.put(key, r);
            log.info("event=mirror_credentials_checked repo={} status={}", repository, r.status());
        }
        if (r.refused()) {
            List<String> c = r.challenges().isEmpty() ? challenge(repository, resource) : r.challenges();
            return Access.unauthorized(c, "credentials not accepted upstream for repository " + repository);
        }
        return Access.GRANTED;
    }

    /**
     * A blob cached from a private repository, asked for through a public one: served only if the
     * public repository has it upstream too, and then it is no secret (unmarked).
     */
    private Access openCopyOfPrivateBlob(String repository, Digest digest, boolean upstreamAnswered) {
        if (!upstreamAnswered) {
            return Access.unavailable("cannot check whether " + repository + " holds " + digest + ": upstream "
                    + upstream.baseUri() + " unreachable");
        }
        try {
            if (anonymous.blobSize(repository, digest).isEmpty()) {
                return Access.notFound("blob unknown: " + digest);
            }
            privateBlobs.remove(digest);
            return Access.GRANTED;
        } catch (IOException e) {
            return Access.unavailable("cannot check whether " + repository + " holds " + digest + ": "
                    + e.getMessage());
        }
    }

    /**
     * Whether an anonymous client may read {@code repository} upstream (empty: the upstream cannot
     * be asked). Asked with a real anonymous client, which follows a token challenge anonymously.
     */
    private Optional<Boolean> anonymousReadable(String repository, String resource) {
        Boolean known = anonymousReads.getIfPresent(repository);
        if (known != null) {
            return Optional.of(known);
        }
        boolean open;
        try {
            if (resource.startsWith("blobs/")) {
                anonymous.blobSize(repository, Digest.parse(resource.substring("blobs/".length())));
            } else {
                anonymous.headManifest(repository, resource.substring("manifests/".length()));
            }
            open = true;
        } catch (RegistryException e) {
            if (e.status() == 401 || e.status() == 403) {
                open = false;
            } else if (e.status() >= 400 && e.status() < 500) {
                open = true; // answered without asking for credentials
            } else {
                return Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        anonymousReads.put(repository, open);
        if (!open) {
            knownPrivate.put(repository, Boolean.TRUE);
        }
        log.debug("event=repository_access repo={} anonymous={}", repository, open);
        return Optional.of(open);
    }

    /** The upstream's challenge for the repository, as it answers a request without credentials. */
    private List<String> challenge(String repository, String resource) {
        List<String> c = challenges.getIfPresent(repository);
        if (c != null) {
            return c;
        }
        try {
            c = upstream.checkAccess(repository, resource, Optional.empty()).challenges();
        } catch (IOException e) {
            c = List.of();
        }
        if (c.isEmpty()) {
            c = List.of("Basic realm=\"" + upstream.baseUri() + "\"");
        } else {
            challenges.put(repository, c);
        }
        return c;
    }

}
