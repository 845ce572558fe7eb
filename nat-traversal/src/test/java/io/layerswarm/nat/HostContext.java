package io.layerswarm.nat;

import io.layerswarm.cache.LayerCache;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.kad.KadDht;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeContext;
import io.netty.channel.EventLoopGroup;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A {@link NodeContext} of a bare host for tests: host, executors and event loops; no node ({@code node()} is
 * null), the rest is not there.
 */
public final class HostContext {
    private HostContext() {
    }

    /** The parts of a node that services such as {@link NatTraversalService} use, around {@code h}. */
    public static NodeContext of(Host h, ScheduledExecutorService scheduler, ExecutorService executor,
            EventLoopGroup group) {
        return new NodeContext() {
            @Override
            public Node node() {
                return null;
            }

            @Override
            public Host host() {
                return h;
            }

            @Override
            public ContentStore store() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Optional<LayerCache> cache() {
                return Optional.empty();
            }

            @Override
            public LayerSwarm swarm() {
                throw new UnsupportedOperationException();
            }

            @Override
            public KadDht dht() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Identify identify() {
                throw new UnsupportedOperationException();
            }

            @Override
            public ScheduledExecutorService scheduler() {
                return scheduler;
            }

            @Override
            public ExecutorService executor() {
                return executor;
            }

            @Override
            public EventLoopGroup eventLoopGroup() {
                return group;
            }
        };
    }
}
