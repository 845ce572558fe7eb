package io.layerswarm.k8s.preheat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.Platform;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What the orchestrator asks a node to fetch now: one image, and for each layer the plan's source. The
 * sources are hints: the node connects to the named peers so its swarm asks them first, and the swarm
 * still decides per piece (the registry fills in whatever no peer can give).
 *
 * @param namespace the upstream registry as the node names it, {@code host[:port]}
 * @param repository the repository, e.g. {@code team/app}
 * @param reference a tag or a digest
 * @param platform picked from an image index
 * @param sources layer digest to a peer id (base58) or {@link #REGISTRY}
 * @param addresses peer id (base58) to multiaddrs it can be dialled at (may be empty: the node then uses
 *     what its peer store knows). It may also name peers that are no layer's source: the other targets
 *     fetching the same image now, dialled too so the swarm's claim round counts them as co-fetchers and
 *     the registry sends each piece to one of them only
 */
public record PreheatRequest(String namespace, String repository, String reference, Platform platform,
                             Map<String, String> sources, Map<String, List<String>> addresses) {
    /** The source hint meaning "no peer can do better than the registry". */
    public static final String REGISTRY = "registry";
    /** Most layer hints in one request (images have tens of layers; this bounds what a peer can make a node parse). */
    public static final int MAX_SOURCES = 1024;
    /** Most addresses per hinted peer. */
    public static final int MAX_ADDRESSES_PER_PEER = 8;
    private static final int MAX_NAME = 1024;

    /** Validates and copies; every digest, peer id and multiaddr must parse. */
    public PreheatRequest {
        namespace = text("namespace", namespace);
        repository = text("repository", repository);
        reference = text("reference", reference);
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(sources, "sources");
        Objects.requireNonNull(addresses, "addresses");
        if (sources.size() > MAX_SOURCES) {
            throw new IllegalArgumentException(sources.size() + " source hints, over " + MAX_SOURCES);
        }
        if (addresses.size() > MAX_SOURCES) {
            throw new IllegalArgumentException(addresses.size() + " peers with addresses, over " + MAX_SOURCES);
        }
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Digest.parse(Objects.requireNonNull(e.getKey(), "source digest"));
            String source = Objects.requireNonNull(e.getValue(), "source of " + e.getKey());
            if (!source.equals(REGISTRY)) {
                PeerId.parse(source);
            }
        }
        for (Map.Entry<String, List<String>> e : addresses.entrySet()) {
            PeerId.parse(Objects.requireNonNull(e.getKey(), "peer id"));
            List<String> addrs = Objects.requireNonNull(e.getValue(), "addresses of " + e.getKey());
            if (addrs.size() > MAX_ADDRESSES_PER_PEER) {
                throw new IllegalArgumentException(addrs.size() + " addresses for " + e.getKey() + ", over "
                        + MAX_ADDRESSES_PER_PEER);
            }
            addrs.forEach(a -> Multiaddr.parse(Objects.requireNonNull(a, "address of " + e.getKey())));
        }
        sources = Map.copyOf(new TreeMap<>(sources));
        TreeMap<String, List<String>> copy = new TreeMap<>();
        addresses.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        addresses = Map.copyOf(copy);
    }

    /** The peers to dial before the pull: the sources the hints name (not the registry) and the co-fetchers, each once. */
    public List<PeerId> hintedPeers() {
        return Stream.concat(sources.values().stream().filter(s -> !s.equals(REGISTRY)),
                addresses.keySet().stream()).distinct().sorted().map(PeerId::parse).toList();
    }

    /** The addresses given for {@code peer}, parsed. */
    public List<Multiaddr> addressesOf(PeerId peer) {
        return addresses.getOrDefault(peer.toBase58(), List.of()).stream().map(Multiaddr::parse).toList();
    }

    private static String text(String what, String value) {
        Objects.requireNonNull(value, what);
        if (value.isBlank() || value.length() > MAX_NAME) {
            throw new IllegalArgumentException(what + " must be 1.." + MAX_NAME + " characters");
        }
        return value;
    }
}
