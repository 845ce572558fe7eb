package io.layerswarm.k8s.scoring;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.ResolvedImage;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves images through {@link RegistryClient} for one platform. Layer lists are cached by manifest
 * digest (content-addressed, so forever, up to a bound); every reference's answer sits in a {@link
 * ResolutionCache}: concurrent requests for one reference share one registry round, a tag is re-checked
 * with a HEAD after {@code tagTtl} while the old answer is still served, and a reference that failed is
 * tried again only after {@link #FAILURE_TTL}, so a scheduling cycle never waits on a registry for an
 * image it has seen.
 */
public final class RegistryLayerResolver implements LayerResolver {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryLayerResolver.class);
    private static final int MAX_ENTRIES = 4096;
    /** How long a failed resolution is answered from memory before the registry is asked again. */
    public static final Duration FAILURE_TTL = Duration.ofSeconds(15);
    /** Registry of references that name none, as kubelet and docker assume. */
    public static final String DEFAULT_REGISTRY = "docker.io";

    private final Function<String, RegistryClient> clients;
    private final Platform platform;
    private final Executor executor;
    private final Map<String, ImageLayers> byDigest = boundedMap();
    private final ResolutionCache<String, ImageLayers> byReference;

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
        this.byReference = new ResolutionCache<>(this::fetch, executor, tagTtl, FAILURE_TTL, MAX_ENTRIES, clock);
    }

    @Override
    public CompletableFuture<ImageLayers> resolve(String image) {
        try {
            ImageReference.parse(image);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return byReference.get(image);
    }

    /**
     * Opens a connection to each registry in the background (HTTP client, auth challenge, TCP and TLS),
     * so that the first scheduling call does not pay for it.
     */
    public void warmUp(Collection<String> registries) {
        for (String registry : registries) {
            executor.execute(() -> {
                long start = System.nanoTime();
                try {
                    RegistryClient client = clients.apply(registry);
                    if (client != null) {
                        client.ping();
                        LOG.info("event=registry_warm registry={} ms={}", registry, (System.nanoTime() - start) / 1_000_000);
                    }
                } catch (Exception e) {
                    LOG.info("event=registry_warm_failed registry={} reason=\"{}\"", registry, e.getMessage());
                }
            });
        }
    }

    /** The registry host[:port] a reference names, {@value #DEFAULT_REGISTRY} when it names none. */
    public static String registryOf(ImageReference ref) {
        return ref.registry() == null ? DEFAULT_REGISTRY : ref.registry();
    }

    /** The repository as the registry knows it: Docker Hub's one-part names live under {@code library/}. */
    public static String repositoryOf(ImageReference ref) {
        return ref.registry() == null && !ref.repository().contains("/") ? "library/" + ref.repository() : ref.repository();
    }

    private ImageLayers fetch(String image) {
        long start = System.nanoTime();
        try {
            ImageReference ref = ImageReference.parse(image);
            String registry = registryOf(ref);
            String repository = repositoryOf(ref);
            String reference = ref.reference();
            if (ref.digest() != null) {
                ImageLayers known = byDigest.get(digestKey(registry, repository, ref.digest().toString()));
                if (known != null) {
                    return rename(known, image);
                }
            }
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
            LOG.info("event=image_resolved image={} layers={} ms={}", image, layers.size(), (System.nanoTime() - start) / 1_000_000);
            return out;
        } catch (Exception e) {
            LOG.info("event=image_unresolved image={} ms={} reason=\"{}\"", image, (System.nanoTime() - start) / 1_000_000,
                    e.getMessage());
            throw new IllegalStateException("cannot resolve " + image + ": " + e.getMessage(), e);
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
