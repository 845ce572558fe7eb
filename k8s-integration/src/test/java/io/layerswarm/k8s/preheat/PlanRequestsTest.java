package io.layerswarm.k8s.preheat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Platform;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A plan for several replicas turns into requests whose targets know each other. */
class PlanRequestsTest {
    private static final String BIG = "sha256:" + "ab".repeat(32);
    private static final String SMALL = "sha256:" + "cd".repeat(32);
    private final Map<String, PeerId> ids = Map.of("a", peer(), "b", peer(), "c", peer(), "elsewhere", peer());
    private final PeerDirectory directory = name -> Optional.ofNullable(ids.get(name));
    private final PlanRequests requests = new PlanRequests(directory,
            p -> List.of(Multiaddr.parse("/ip4/10.0.0." + (p.hashCode() & 0x7f) + "/tcp/4001")), Platform.linuxAmd64());
    private final PodLayers pod = PodLayers.of(List.of(new ImageLayers("127.0.0.1:5000/team/app:1", "127.0.0.1:5000",
            "sha256:" + "ef".repeat(32), List.of(new LayerInfo(BIG, 200 << 20), new LayerInfo(SMALL, 1 << 20)))));

    private static PeerId peer() {
        return PeerId.fromPublicKey(Ed25519PrivateKey.generate().publicKey());
    }

    private static NodeStatus empty(String name, double registryMbps) {
        return new NodeStatus(name, Map.of(), 1L << 40, 1L << 40, 0, Map.of("*", LinkEstimate.mbps(registryMbps, 50)), Map.of());
    }

    @Test
    void everyReplicaDialsTheOthersAndOnlyTheFastestUplinkIsToldToUseTheRegistry() {
        MutableClusterView view = new MutableClusterView();
        view.put(empty("a", 10));
        view.put(empty("b", 40));
        view.put(empty("c", 20));
        view.put(new NodeStatus("elsewhere", Map.of(), 1L << 40, 1L << 40, 0, Map.of(), Map.of()));
        TransferPlan plan = new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50))
                .plan(pod, List.of("a", "b", "c"), view);
        for (String target : List.of("a", "b", "c")) {
            List<PreheatRequest> sent = requests.forTarget(plan, target, pod);
            assertEquals(1, sent.size());
            PreheatRequest r = sent.get(0);
            assertEquals("team/app", r.repository());
            assertEquals(Set.of(BIG, SMALL), r.sources().keySet());
            Set<PeerId> others = new HashSet<>();
            List.of("a", "b", "c").stream().filter(n -> !n.equals(target)).forEach(n -> others.add(ids.get(n)));
            assertEquals(others, new HashSet<>(r.hintedPeers()), target + " dials the other replicas, no one else");
            for (PeerId p : r.hintedPeers()) {
                assertEquals(1, r.addressesOf(p).size(), "with an address for " + p);
            }
            boolean registry = r.sources().values().stream().allMatch(PreheatRequest.REGISTRY::equals);
            assertEquals(target.equals("b"), registry, target + ": only b, the best registry link, fetches from it");
            if (!registry) {
                assertTrue(r.sources().values().stream().allMatch(s -> s.equals(ids.get("b").toBase58())), r.toString());
            }
        }
    }

    @Test
    void aTargetThatHoldsEverythingGetsNothingAndIsNoOnesCoFetcherTwice() {
        MutableClusterView view = new MutableClusterView();
        view.put(new NodeStatus("a", Map.of(BIG, 200L << 20, SMALL, 1L << 20), 1L << 40, 1L << 40, 0, Map.of(), Map.of()));
        view.put(empty("c", 20));
        TransferPlan plan = new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50))
                .plan(pod, List.of("a", "c"), view);
        assertEquals(Set.of("c"), PlanRequests.targets(plan));
        PreheatRequest r = requests.forTarget(plan, "c", pod).get(0);
        assertEquals(List.of(ids.get("a")), r.hintedPeers(), "the holder, named once");
        assertTrue(requests.forTarget(plan, "a", pod).get(0).sources().isEmpty(), "nothing to fetch on a");
    }

    @Test
    void aLateReplicaDialsEverySiblingStillFetchingNotOnlyItsSource() {
        MutableClusterView view = new MutableClusterView();
        for (String n : List.of("a", "b", "c")) {
            view.put(empty(n, 20));
        }
        TransferPlan plan = new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50))
                .plan(pod, List.of("c"), view, Set.of("a", "b"));
        PreheatRequest r = requests.forTarget(plan, "c", pod).get(0);
        assertEquals(Set.of(ids.get("a"), ids.get("b")), new HashSet<>(r.hintedPeers()),
                "whichever sibling the swarm asks, it knows the one fetching from the registry");
        assertTrue(r.sources().values().stream().noneMatch(PreheatRequest.REGISTRY::equals), r.toString());
    }
}
