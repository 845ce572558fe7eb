package io.layerswarm.node;

/**
 * Something that runs inside a {@link Node} without the node knowing it: NAT traversal, a status
 * publisher, metrics. Added with {@link Node.Builder#service(NodeService)}; started after the node's
 * own parts, in the order added, and closed before them, in reverse order.
 */
public interface NodeService extends AutoCloseable {
    /**
     * Starts the service. A failure here fails {@link Node.Builder#start()} (and closes what started).
     *
     * @param context the running node's parts
     */
    void start(NodeContext context) throws Exception;

    /** Stops the service; the node's parts are still running. */
    @Override
    default void close() throws Exception {
    }
}
