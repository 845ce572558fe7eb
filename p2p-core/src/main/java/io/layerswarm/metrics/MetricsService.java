package io.layerswarm.metrics;

import io.layerswarm.node.NodeContext;
import io.layerswarm.node.NodeService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Serves a node's metrics and health as a {@link NodeService}: on start it binds {@link NodeMetrics}
 * to the node's swarm, host, DHT, cache and bandwidth limits and opens a {@link MetricsServer};
 * {@code /healthz} answers 200 from then until the node begins to close. The event side of the metrics
 * needs the same {@link NodeMetrics} as the node's listener and mirror listener:
 *
 * <pre>{@code
 * NodeMetrics m = new NodeMetrics();
 * MetricsService metrics = new MetricsService(new InetSocketAddress("0.0.0.0", 9402), m);
 * Node node = Node.builder()...listener(m).mirrorListener(m).service(metrics).start();
 * }</pre>
 */
public final class MetricsService implements NodeService {
    private final InetSocketAddress listen;
    private final NodeMetrics metrics;
    private final AtomicBoolean serving = new AtomicBoolean();
    private volatile MetricsServer server;

    /**
     * @param listen where {@code /metrics} and {@code /healthz} are served (port 0 picks a free one)
     * @param metrics the metrics to bind and serve
     */
    public MetricsService(InetSocketAddress listen, NodeMetrics metrics) {
        this.listen = Objects.requireNonNull(listen, "listen");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public void start(NodeContext context) throws IOException {
        metrics.bindSwarm(context.swarm()).bindHost(context.host()).bindDht(context.dht());
        context.cache().ifPresent(metrics::bindCache);
        context.host().uploadLimit().ifPresent(l -> metrics.bindBandwidth("upload", l));
        context.host().downloadLimit().ifPresent(l -> metrics.bindBandwidth("download", l));
        server = MetricsServer.start(listen, metrics.registry(), serving::get);
        serving.set(true);
    }

    /** The bound address (after start). */
    public InetSocketAddress address() {
        MetricsServer s = server;
        if (s == null) {
            throw new IllegalStateException("metrics service not started");
        }
        return s.address();
    }

    /** Base URL, {@code http://HOST:PORT} (after start). */
    public String url() {
        InetSocketAddress a = address();
        String h = a.getAddress().getHostAddress();
        return "http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    @Override
    public void close() {
        serving.set(false);
        MetricsServer s = server;
        if (s != null) {
            s.close();
        }
    }
}
