package io.layerswarm.k8s.preheat;

import io.layerswarm.k8s.orchestrator.Transfer;
import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.scoring.SourceKind;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns a {@link TransferPlan} into the requests one target node gets: one per image of the pod, each
 * naming, for the image's layers the plan moves, the source peer (or the registry). A layer whose
 * source node has no known peer id is hinted as the registry, which is what the node would fall back
 * to anyway.
 */
public final class PlanRequests {
    private final PeerDirectory peers;
    private final Function<PeerId, List<Multiaddr>> addresses;
    private final Platform platform;

    /**
     * @param peers node name to peer id
     * @param addresses where a source peer can be dialled (e.g. the orchestrator's peer store)
     * @param platform the nodes' platform
     */
    public PlanRequests(PeerDirectory peers, Function<PeerId, List<Multiaddr>> addresses, Platform platform) {
        this.peers = peers;
        this.addresses = addresses;
        this.platform = platform;
    }

    /**
     * The requests for {@code target}, one per distinct image of {@code pod}. The plan's other targets
     * and the nodes it says are {@linkplain TransferPlan#alsoFetching() also fetching} are named as
     * co-fetchers (with their addresses) so all of them connect before they pull: a node that fetches a
     * layer from the registry and one that copies it then know of each other, whichever starts first.
     */
    public List<PreheatRequest> forTarget(TransferPlan plan, String target, PodLayers pod) {
        Map<String, Transfer> byLayer = new LinkedHashMap<>();
        for (Transfer t : plan.forTarget(target)) {
            byLayer.putIfAbsent(t.layer(), t);
        }
        Map<String, PreheatRequest> out = new LinkedHashMap<>();
        for (ImageLayers image : pod.images()) {
            ImageReference ref = ImageReference.parse(image.image());
            String namespace = image.registry();
            String repository = RegistryLayerResolver.repositoryOf(ref);
            // by digest: the node gets exactly the manifest the plan was made from, even if the tag moved
            String reference = image.manifestDigest() != null ? image.manifestDigest() : ref.reference();
            Map<String, String> sources = new LinkedHashMap<>();
            Map<String, List<String>> addrs = new LinkedHashMap<>();
            for (LayerInfo l : image.layers()) {
                Transfer t = byLayer.get(l.digest());
                if (t == null) {
                    continue; // the target holds it already
                }
                Optional<PeerId> source = t.kind() == SourceKind.PEER ? peers.peerOf(t.source()) : Optional.empty();
                sources.put(l.digest(), source.map(PeerId::toBase58).orElse(PreheatRequest.REGISTRY));
                source.ifPresent(p -> addrs.computeIfAbsent(p.toBase58(), k -> dialable(p)));
            }
            if (!sources.isEmpty()) {
                Set<String> coFetchers = new LinkedHashSet<>(targets(plan));
                coFetchers.addAll(new TreeSet<>(plan.alsoFetching()));
                for (String other : coFetchers) {
                    if (!other.equals(target)) {
                        peers.peerOf(other).ifPresent(p -> addrs.computeIfAbsent(p.toBase58(), k -> dialable(p)));
                    }
                }
            }
            out.putIfAbsent(namespace + "/" + repository + "@" + reference,
                    new PreheatRequest(namespace, repository, reference, platform, sources, addrs));
        }
        return new ArrayList<>(out.values());
    }

    /** The targets a plan has transfers for, in plan order. */
    public static Set<String> targets(TransferPlan plan) {
        return plan.transfers().stream().map(Transfer::target).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private List<String> dialable(PeerId p) {
        return addresses.apply(p).stream().limit(PreheatRequest.MAX_ADDRESSES_PER_PEER).map(Multiaddr::toString).toList();
    }
}
