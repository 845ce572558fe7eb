package io.layerswarm.node;

import io.layerswarm.cache.LayerCache;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.kad.KadDht;
import io.netty.channel.EventLoopGroup;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A running node's parts, as a {@link NodeService} sees them: it may register protocols on the host,
 * read the store, ask the swarm, and run work on the node's threads (which the node owns: a service
 * must not shut them down).
 */
public interface NodeContext {
    /** The node itself (peer id, addresses, pulls, listeners). */
    Node node();

    /** The libp2p host: add protocols with {@code setStreamHandler}/{@code setBlockingHandler}. */
    Host host();

    /** The node's content store. */
    ContentStore store();

    /** The layer cache, when the node has a capacity. */
    Optional<LayerCache> cache();

    /** The swarm. */
    LayerSwarm swarm();

    /** The Kademlia DHT the node joined (e.g. for its routing table size). */
    KadDht dht();

    /** The host's identify service (e.g. to learn at once that a new peer speaks a protocol). */
    Identify identify();

    /** For periodic work (single-threaded: keep tasks short). */
    ScheduledExecutorService scheduler();

    /** For blocking work. */
    ExecutorService executor();

    /** The node's Netty event loop group (host and mirror). */
    EventLoopGroup eventLoopGroup();
}
