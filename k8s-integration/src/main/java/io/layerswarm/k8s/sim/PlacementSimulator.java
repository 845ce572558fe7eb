package io.layerswarm.k8s.sim;

import io.layerswarm.cache.policy.CachePolicy;
import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.cache.policy.Policies;
import io.layerswarm.cache.policy.ReplicaView;
import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.cache.sim.TraceEvent;
import io.layerswarm.k8s.scoring.CacheFitFilter;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.NodeScorer;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.scoring.SourceKind;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays a deployment trace, but lets the scheduler place each pod: every request's candidates are all
 * nodes, the real {@link CacheFitFilter} and {@link NodeScorer} run over a {@link MutableClusterView}
 * built from the simulated caches, and the pick is the highest extender score (x10, as kube-scheduler
 * weighs extenders against its 0..100 plugins) plus a LeastAllocated term {@code 100 x (1 - running /
 * slots)} that stands in for the default scheduler's resource scoring; a full node is not a candidate.
 * Each pod runs for the next {@code podWindow} deployments. Ties go to the lowest node index.
 * The chosen node's cache then takes the image ({@link CachePolicy#request}) exactly as in
 * {@code cache-sim}. Links: node i reaches the registry at {@code registryMbps[i % len]} with
 * {@code registryRttMs}, and every peer at {@code peerLink}. By default the scorer sees those very
 * figures; with {@link #measuredLinks} it sees only what each node would have measured of them
 * ({@link SimulatedMeters}: per-piece samples of its own fetches, optional probe reads), while the
 * deployment times are still computed on the true links.
 */
public final class PlacementSimulator {
    private final List<TraceEvent> trace;
    private final ImageCatalog images;
    private final int nodes;
    private final int slots;
    private final int podWindow;
    private final String cachePolicy;
    private final List<LinkEstimate> registryLinks;
    private final LinkEstimate peerLink;
    private final DeploymentTimeModel model;
    /** 0: the scorer sees the configured links; else the piece size of the simulated measurements. */
    private final int measuredPieceBytes;
    private final int probeBytes;

    /**
     * @param trace deployments in time order (their node field is used only by the {@code trace} policy)
     * @param images image to layers
     * @param nodes cluster size
     * @param slots pods one node can run at once
     * @param podWindow how many later deployments a pod stays running for
     * @param cachePolicy each node's cache policy (see {@link Policies#NAMES})
     * @param registryLinks per-node registry links, assigned round-robin
     * @param peerLink link between any two nodes
     */
    public PlacementSimulator(List<TraceEvent> trace, ImageCatalog images, int nodes, int slots, int podWindow,
                              String cachePolicy, List<LinkEstimate> registryLinks, LinkEstimate peerLink) {
        if (nodes < 1 || slots < 1 || podWindow < 0) {
            throw new IllegalArgumentException("need nodes >= 1, slots >= 1, pod window >= 0");
        }
        if ((long) slots * nodes <= podWindow) {
            throw new IllegalArgumentException("slots x nodes (" + (long) slots * nodes + ") must exceed the pod window ("
                    + podWindow + ") or the cluster fills up");
        }
        if (registryLinks.isEmpty()) {
            throw new IllegalArgumentException("no registry links");
        }
        for (TraceEvent e : trace) {
            if (images.get(e.image()) == null) {
                throw new IllegalArgumentException("trace requests image '" + e.image() + "' which the images file does not list");
            }
        }
        Policies.create(cachePolicy, 0, ReplicaView.NONE); // validates the name before any work
        this.trace = trace;
        this.images = images;
        this.nodes = nodes;
        this.slots = slots;
        this.podWindow = podWindow;
        this.cachePolicy = cachePolicy;
        this.registryLinks = List.copyOf(registryLinks);
        this.peerLink = peerLink;
        this.model = new DeploymentTimeModel(registryLinks.get(0), peerLink);
        this.measuredPieceBytes = 0;
        this.probeBytes = 0;
    }

    private PlacementSimulator(PlacementSimulator o, int measuredPieceBytes, int probeBytes) {
        this.trace = o.trace;
        this.images = o.images;
        this.nodes = o.nodes;
        this.slots = o.slots;
        this.podWindow = o.podWindow;
        this.cachePolicy = o.cachePolicy;
        this.registryLinks = o.registryLinks;
        this.peerLink = o.peerLink;
        // a node that measured nothing is scored on the model's edge defaults, as the extender does
        this.model = DeploymentTimeModel.edgeDefaults();
        this.measuredPieceBytes = measuredPieceBytes;
        this.probeBytes = probeBytes;
    }

    /**
     * The same simulation, but the scorer sees the links each node would have measured, not the
     * configured ones: nothing until the node fetched from a source (or probed it), then the swarm's
     * smoothed per-piece throughput and the ping RTT; links never measured fall back to the model's edge
     * defaults (20 Mbit/s 50 ms registry, 100 Mbit/s 2 ms peers). Deployment times stay on the true links.
     *
     * @param pieceBytes the swarm's piece size (one throughput sample per piece)
     * @param probeBytes bytes of a bandwidth probe of a link not measured yet (the registry at the start,
     *     a peer once it holds a layer); 0 = no probes
     */
    public PlacementSimulator measuredLinks(int pieceBytes, int probeBytes) {
        if (pieceBytes < 1 || probeBytes < 0) {
            throw new IllegalArgumentException("piece size must be >= 1 and probe size >= 0");
        }
        return new PlacementSimulator(this, pieceBytes, probeBytes);
    }

    /**
     * Runs one configuration.
     *
     * @param scoring a {@link ScoringPolicies} name, or {@code trace} to keep the trace's own placement
     * @param capacity cache bytes per node
     */
    public PlacementResult run(String scoring, long capacity) {
        NodeScorer scorer = "trace".equals(scoring) ? null : ScoringPolicies.create(scoring, model);
        CacheFitFilter fit = new CacheFitFilter();
        List<String> names = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            names.add("node-" + i);
        }
        Map<String, Integer> holders = new HashMap<>();
        List<CachePolicy> caches = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            CachePolicy[] self = new CachePolicy[1];
            self[0] = Policies.create(cachePolicy, capacity,
                    key -> holders.getOrDefault(key, 0) - (self[0].contains(key) ? 1 : 0));
            caches.add(self[0]);
        }
        Map<String, Long> sizes = new HashMap<>();
        SimulatedMeters meters = measuredPieceBytes == 0 ? null : new SimulatedMeters(nodes, measuredPieceBytes, probeBytes);
        MutableClusterView view = new MutableClusterView(); // what the scorer sees
        MutableClusterView truth = meters == null ? view : new MutableClusterView(); // the configured links
        for (int i = 0; i < nodes; i++) {
            if (meters != null) {
                meters.probeIfUnmeasured(i, SimulatedMeters.REGISTRY, registryLink(i));
                truth.put(status(names, i, caches.get(i), sizes, null));
            }
            view.put(status(names, i, caches.get(i), sizes, meters));
        }
        int[] running = new int[nodes];
        Deque<Integer> live = new ArrayDeque<>();
        Map<String, Integer> traceSlots = new LinkedHashMap<>();
        Map<String, PodLayers> pods = new HashMap<>();
        long layerRequests = 0;
        long layerHits = 0;
        long bytes = 0;
        long hitBytes = 0;
        long peerBytes = 0;
        long registryBytes = 0;
        double seconds = 0;
        int maxPods = 0;
        for (TraceEvent e : trace) {
            ImageRequest req = images.get(e.image());
            PodLayers pod = pods.computeIfAbsent(e.image(), k -> pod(k, req));
            int chosen;
            if (scorer == null) {
                chosen = traceSlots.computeIfAbsent(e.node(), k -> traceSlots.size()) % nodes;
            } else {
                if (meters != null && meters.probes()) {
                    probePeers(meters, names, caches, sizes, view, truth);
                }
                chosen = choose(pod, names, running, view, scorer, fit);
            }
            NodeStatus target = truth.node(names.get(chosen)).orElseThrow();
            DeploymentTimeModel.Prediction p = model.predict(pod, target, truth);
            if (meters != null) {
                for (DeploymentTimeModel.Assignment a : p.assignments()) {
                    if (a.kind() == SourceKind.REGISTRY) {
                        meters.fetched(chosen, SimulatedMeters.REGISTRY, registryLink(chosen), a.layer().size());
                    } else if (a.kind() == SourceKind.PEER) {
                        meters.fetched(chosen, a.source(), peerLink, a.layer().size());
                    }
                }
            }
            seconds += p.seconds();
            peerBytes += p.bytes(SourceKind.PEER);
            registryBytes += p.bytes(SourceKind.REGISTRY);
            for (LayerRef l : req.layers()) {
                sizes.putIfAbsent(l.key(), l.size());
                layerRequests++;
                bytes += l.size();
                if (target.holds(l.key())) {
                    layerHits++;
                    hitBytes += l.size();
                }
            }
            CachePolicy cache = caches.get(chosen);
            boolean[] before = new boolean[req.layers().size()];
            for (int i = 0; i < before.length; i++) {
                before[i] = cache.contains(req.layers().get(i).key());
            }
            List<String> evicted = cache.request(req);
            for (int i = 0; i < before.length; i++) {
                String key = req.layers().get(i).key();
                if (cache.contains(key) != before[i]) {
                    holders.merge(key, before[i] ? -1 : 1, Integer::sum);
                }
            }
            for (String key : evicted) {
                if (req.layers().stream().noneMatch(l -> l.key().equals(key))) {
                    holders.merge(key, -1, Integer::sum);
                }
            }
            view.put(status(names, chosen, cache, sizes, meters));
            if (meters != null) {
                truth.put(status(names, chosen, cache, sizes, null));
            }
            running[chosen]++;
            maxPods = Math.max(maxPods, running[chosen]);
            live.addLast(chosen);
            if (live.size() > podWindow) {
                running[live.removeFirst()]--;
            }
        }
        long n = trace.size();
        return new PlacementResult(scoring, capacity, n, n == 0 ? 0 : seconds / n,
                layerRequests == 0 ? 0 : (double) layerHits / layerRequests, bytes == 0 ? 0 : (double) hitBytes / bytes,
                peerBytes, registryBytes, maxPods);
    }

    private int choose(PodLayers pod, List<String> names, int[] running, MutableClusterView view, NodeScorer scorer,
                       CacheFitFilter fit) {
        List<String> candidates = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            if (running[i] < slots && fit.check(pod, view.node(names.get(i)).orElseThrow()).isEmpty()) {
                candidates.add(names.get(i));
            }
        }
        if (candidates.isEmpty()) {
            // no node can cache the pod (e.g. capacity 0): kube-scheduler without the extender's filter
            for (int i = 0; i < nodes; i++) {
                if (running[i] < slots) {
                    candidates.add(names.get(i));
                }
            }
        }
        Map<String, Double> scores = scorer.score(pod, candidates, view);
        int best = -1;
        double bestTotal = Double.NEGATIVE_INFINITY;
        for (String c : candidates) {
            int i = Integer.parseInt(c.substring("node-".length()));
            // the extender's score is rounded to the wire's integer 0..10, as kube-scheduler receives it
            double total = 10.0 * Math.round(scores.getOrDefault(c, 0.0)) + 100.0 * (1 - (double) running[i] / slots);
            if (total > bestTotal) {
                bestTotal = total;
                best = i;
            }
        }
        return best;
    }

    /**
     * Every node probes each peer that now holds a layer and that it has no throughput for (a real node
     * does so at its next probe round); the probed nodes' statuses are rebuilt.
     */
    private void probePeers(SimulatedMeters meters, List<String> names, List<CachePolicy> caches, Map<String, Long> sizes,
                            MutableClusterView view, MutableClusterView truth) {
        for (int i = 0; i < nodes; i++) {
            boolean probed = false;
            for (int j = 0; j < nodes; j++) {
                if (j != i && !truth.node(names.get(j)).orElseThrow().layers().isEmpty()) {
                    probed |= meters.probeIfUnmeasured(i, names.get(j), peerLink);
                }
            }
            if (probed) {
                view.put(status(names, i, caches.get(i), sizes, meters));
            }
        }
    }

    private LinkEstimate registryLink(int node) {
        return registryLinks.get(node % registryLinks.size());
    }

    /** Node i's status: its cache, and the configured links ({@code meters} null) or the ones it measured. */
    private NodeStatus status(List<String> names, int i, CachePolicy cache, Map<String, Long> sizes, SimulatedMeters meters) {
        Map<String, Long> held = new HashMap<>();
        for (String key : cache.residentKeys()) {
            held.put(key, sizes.getOrDefault(key, 0L));
        }
        Map<String, LinkEstimate> peers = new HashMap<>();
        for (int j = 0; j < nodes; j++) {
            LinkEstimate l = j == i ? null : meters == null ? peerLink : meters.published(i, names.get(j));
            if (l != null) {
                peers.put(names.get(j), l);
            }
        }
        LinkEstimate registry = meters == null ? registryLink(i) : meters.published(i, SimulatedMeters.REGISTRY);
        long used = cache.weightedSize();
        return new NodeStatus(names.get(i), held, cache.capacity(), Math.max(0, cache.capacity() - used), used,
                registry == null ? Map.of() : Map.of("*", registry), peers);
    }

    private static PodLayers pod(String image, ImageRequest req) {
        return PodLayers.of(List.of(CatalogLayerResolver.layers(image, req)));
    }
}
