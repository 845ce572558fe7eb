package io.layerswarm.k8s.scoring;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.ResolvedImage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves images through {@link RegistryClient} for one platform. Resolved layer lists are cached by
 * manifest digest (content-addressed, so forever, up to a bound); a tag's digest is re-checked with a
 * HEAD after {@code tagTtl}, and until that check returns the old answer is served, so a scheduling
 * cycle never waits on a registry for an image it has seen. Concurrent requests for one reference share
 * one registry round.
 */
public final class RegistryLayerResolver implements LayerResolver {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryLayerResolver.class);
    private static final int MAX_ENTRIES = 4096;
    /** Registry of references that name none, as kubelet and docker assume. */
    public static final String DEFAULT_REGISTRY = "docker.io";

    private final Function<String, RegistryClient> clients;
    private final Platform platform;
    private final Executor executor;
    private final Duration tagTtl;
    private final Clock clock;
    private final Map<String, ImageLayers> byDigest = boundedMap();
    private final ConcurrentMap<String, Tagged> byTag = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, CompletableFuture<ImageLayers>> inFlight = new ConcurrentHashMap<>();

    private record Tagged(ImageLayers layers, Instant checked) {
    }

    /**
     * @param clients registry host[:port] to client (the caller decides scheme and credentials)
     * @param platform the nodes' platform
     * @param executor runs registry calls
     * @param tagTtl how long a tag's digest is trusted before a HEAD re-checks it
     * @param clock time source
     */
    public RegistryLayerResolver(Function<String, RegistryClient> clients, Platform platform, Executor executor,
                                 Duration tagTtl, Clock clock) {
        this.clients = clients;
        this.platform = platform;
        this.executor = executor;
        this.tagTtl = tagTtl;
        this.clock = clock;
    }

    @Override
    public CompletableFuture<ImageLayers> resolve(String image) {
        ImageReference ref;
        try {
            ref = ImageReference.parse(image);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        String registry = registryOf(ref);
        String repository = repositoryOf(ref);
        if (ref.digest() != null) {
            ImageLayers hit = byDigest.get(digestKey(registry, repository, ref.digest().toString()));
            if (hit != null) {
                return CompletableFuture.completedFuture(hit);
            }
        } else {
            Tagged t = byTag.get(image);
            if (t != null) {
                if (clock.instant().isAfter(t.checked().plus(tagTtl))) {
                    load(image, registry, repository, ref.reference()); // refresh behind the stale answer
                }
                return CompletableFuture.completedFuture(t.layers());
            }
        }
        return load(image, registry, repository, ref.reference());
    }

    /** The registry host[:port] a reference names, {@value #DEFAULT_REGISTRY} when it names none. */
    public static String registryOf(ImageReference ref) {
        return ref.registry() == null ? DEFAULT_REGISTRY : ref.registry();
    }

    /** The repository as the registry knows it: Docker Hub's one-part names live under {@code library/}. */
    public static String repositoryOf(ImageReference ref) {
        return ref.registry() == null && !ref.repository().contains("/") ? "library/" + ref.repository() : ref.repository();
    }

    private CompletableFuture<ImageLayers> load(String image, String registry, String repository, String reference) {
        return inFlight.computeIfAbsent(image, k -> {
            CompletableFuture<ImageLayers> f = CompletableFuture.supplyAsync(() -> fetch(image, registry, repository, reference), executor);
            f.whenComplete((v, e) -> {
                inFlight.remove(image);
                if (e != null) {
                    LOG.info("event=image_unresolved image={} reason=\"{}\"", image, e.getMessage());
                }
            });
            return f;
        });
    }

    private ImageLayers fetch(String image, String registry, String repository, String reference) {
        try {
            RegistryClient client = clients.apply(registry);
            if (client == null) {
                throw new IllegalStateException("no registry configured for " + registry);
            }
            boolean byTagRef = !reference.contains(":");
            if (byTagRef) {
                // A HEAD names the digest; when it is one we resolved before, no manifest is fetched.
                Optional<Descriptor> head = client.headManifest(repository, reference);
                if (head.isPresent()) {
                    ImageLayers known = byDigest.get(digestKey(registry, repository, head.get().digest().toString()));
                    if (known != null) {
                        byTag.put(image, new Tagged(rename(known, image), clock.instant()));
                        return rename(known, image);
                    }
                }
            }
            ResolvedImage resolved = client.resolveImage(repository, reference, platform);
            List<LayerInfo> layers = new ArrayList<>();
            for (Descriptor d : resolved.manifest().layers()) {
                layers.add(new LayerInfo(d.digest().toString(), d.size()));
            }
            ImageLayers out = new ImageLayers(image, registry, resolved.manifestDigest().toString(), layers);
            byDigest.put(digestKey(registry, repository, out.manifestDigest()), out);
            if (resolved.index() != null) {
                byDigest.put(digestKey(registry, repository, resolved.index().digest().toString()), out);
            }
            if (byTagRef) {
                if (byTag.size() >= MAX_ENTRIES) {
                    byTag.clear(); // crude bound: tags re-resolve through the digest cache with one HEAD each
                }
                byTag.put(image, new Tagged(out, clock.instant()));
            }
            return out;
        } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(
                    new IllegalStateException("cannot resolve " + image + ": " + e.getMessage(), e));
        }
    }

    private static ImageLayers rename(ImageLayers l, String image) {
        return l.image().equals(image) ? l : new ImageLayers(image, l.registry(), l.manifestDigest(), l.layers());
    }

    private String digestKey(String registry, String repository, String digest) {
        return registry + "/" + repository + "@" + digest + "|" + platform;
    }

    private static Map<String, ImageLayers> boundedMap() {
        return java.util.Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, ImageLayers> eldest) {
                return size() > MAX_ENTRIES;
            }
        });
    }
}
