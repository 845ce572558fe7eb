package io.layerswarm.metrics;

import io.layerswarm.cache.LayerCache;
import io.layerswarm.libp2p.bandwidth.BandwidthLimiter;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.kad.KadDht;
import io.layerswarm.mirror.MirrorListener;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.node.SwarmListener;
import io.layerswarm.oci.Digest;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.DoubleSupplier;

/**
 * A node's Prometheus metrics in a registry of its own (no global state). Event counters are fed by
 * the swarm, mirror and node listeners this class implements; levels (connections, routing table, cache)
 * are read when scraped from the components bound with the {@code bind*} methods. Every metric name
 * starts with {@code layerswarm_}.
 */
public final class NodeMetrics implements SwarmListener, MirrorListener, NodeListener {
    private static final String PEER = "peer";
    private static final String REGISTRY = "registry";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter fetchedBytes = Counter.builder().name("layerswarm_fetched_bytes")
            .help("Verified blob bytes this node fetched, by source (peer or registry).")
            .labelNames("source").register(registry);
    private final Counter piecesVerified = Counter.builder().name("layerswarm_pieces_verified")
            .help("Pieces that matched their hash and were written, by source (peer or registry).")
            .labelNames("source").register(registry);
    private final Counter piecesRejected = Counter.builder().name("layerswarm_pieces_rejected")
            .help("Pieces that did not match their hash and were thrown away.").register(registry);
    private final Counter peersBanned = Counter.builder().name("layerswarm_peers_banned")
            .help("Bans of peers (or the registry) that sent a bad piece or failed repeatedly.")
            .labelNames("source").register(registry);
    private final Counter cacheHits = Counter.builder().name("layerswarm_cache_hits")
            .help("Blobs handed to local clients that this node already held.").register(registry);
    private final Counter cacheMisses = Counter.builder().name("layerswarm_cache_misses")
            .help("Blobs handed to local clients that had to be fetched first (from peers or upstream).")
            .register(registry);
    private final Histogram mirrorLatency = Histogram.builder().name("layerswarm_mirror_request_duration_seconds")
            .help("Time from a mirror request's arrival to its response headers (a miss includes the fetch).")
            .labelNames("route", "method", "code").classicOnly()
            .classicExponentialUpperBounds(0.001, 2, 17).register(registry);

    /** The registry to scrape (see {@link MetricsServer}). */
    public PrometheusRegistry registry() {
        return registry;
    }

    // ---- bindings: levels read at scrape time -----------------------------------------------------

    /** Counts the swarm's pieces, bans and uploads, and exposes its active downloads. */
    public NodeMetrics bindSwarm(LayerSwarm swarm) {
        swarm.addListener(this);
        counter("layerswarm_served_bytes", "Blob bytes this node uploaded to peers.", swarm::bytesServed);
        gauge("layerswarm_active_downloads", "Blobs being fetched now.", swarm::activeDownloads);
        return this;
    }

    /** Exposes the host's open connections. */
    public NodeMetrics bindHost(Host host) {
        gauge("layerswarm_p2p_connections", "Open libp2p connections.", () -> host.connections().size());
        return this;
    }

    /** Exposes the size of the DHT routing table. */
    public NodeMetrics bindDht(KadDht dht) {
        gauge("layerswarm_dht_routing_table_peers", "Peers in the Kademlia routing table.", dht::routingTableSize);
        return this;
    }

    /** Exposes the layer cache's size, capacity, evictions and pins. */
    public NodeMetrics bindCache(LayerCache cache) {
        gauge("layerswarm_cache_bytes", "Bytes of blobs the layer cache holds.", cache::usedBytes);
        gauge("layerswarm_cache_capacity_bytes", "Capacity of the layer cache in bytes.", cache::capacity);
        counter("layerswarm_cache_evictions", "Blobs deleted by cache eviction.", cache::evictedBlobs);
        gauge("layerswarm_cache_pins", "Pins held on cached blobs (layers in use are not evicted).", cache::pinCount);
        return this;
    }

    /**
     * Exposes a node-wide bandwidth limit: the rate, the bytes that passed and the waits imposed.
     *
     * @param direction {@code upload} or {@code download}
     */
    public NodeMetrics bindBandwidth(String direction, BandwidthLimiter limiter) {
        if (!direction.equals("upload") && !direction.equals("download")) {
            throw new IllegalArgumentException("direction must be upload or download, got " + direction);
        }
        gauge("layerswarm_p2p_" + direction + "_limit_bytes_per_second", "Configured " + direction
                + " limit for all libp2p connections together.", limiter::bytesPerSecond);
        counter("layerswarm_p2p_" + direction + "_limited_bytes", "Libp2p " + direction
                + " bytes (on the wire) counted by the rate limit.", limiter::bytes);
        counter("layerswarm_p2p_" + direction + "_throttled_seconds", "Sum of the waits the " + direction
                + " limit imposed on connections.", () -> limiter.delayedNanos() / 1e9);
        return this;
    }

    private void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble()))
                .register(registry);
    }

    private void counter(String name, String help, DoubleSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble()))
                .register(registry);
    }

    // ---- events ----------------------------------------------------------------------------------

    @Override
    public void pieceAccepted(Digest blob, String source, boolean fromOrigin, int bytes) {
        String s = fromOrigin ? REGISTRY : PEER;
        fetchedBytes.labelValues(s).inc(bytes);
        piecesVerified.labelValues(s).inc();
    }

    @Override
    public void pieceRejected(Digest blob, String source) {
        piecesRejected.inc();
    }

    @Override
    public void sourceBanned(Digest blob, String source, boolean fromOrigin, String reason) {
        // not labelled by peer id: label values must stay bounded
        peersBanned.labelValues(fromOrigin ? REGISTRY : PEER).inc();
    }

    @Override
    public void requestServed(String route, String method, int status, long nanos) {
        mirrorLatency.labelValues(route, method, Integer.toString(status)).observe(nanos / 1e9);
    }

    @Override
    public void blobServed(NodeEvent.BlobServed event) {
        (event.fromCache() ? cacheHits : cacheMisses).inc();
    }
}
