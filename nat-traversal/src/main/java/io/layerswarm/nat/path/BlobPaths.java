package io.layerswarm.nat.path;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says which path the layer data of each fetched blob took: per peer source one log line,
 * {@code event=blob_path blob=DIGEST peer=ID path=direct|relayed|gone transport=quic|tcp|none bytes=N[ relay=circuit|turn]}, the path
 * being that of the connection kept to the peer when the blob completed (the swarm opens its piece streams on
 * that connection); and {@code event=blob_path blob=DIGEST peer=registry bytes=N} for bytes from the registry.
 */
public final class BlobPaths implements NodeListener {
    private static final Logger LOG = LoggerFactory.getLogger(BlobPaths.class);

    private final Host host;

    /** Logs the paths of blobs fetched by the node of {@code host}. */
    public BlobPaths(Host host) {
        this.host = host;
    }

    @Override
    public void blobFetched(NodeEvent.BlobFetched e) {
        for (Map.Entry<String, Long> source : e.bytesBySource().entrySet()) {
            Optional<PeerId> peer = peer(source.getKey());
            if (peer.isEmpty()) {
                continue;
            }
            Optional<Connection> c = host.connection(peer.get());
            String relay = c.map(ConnectionPaths::relay).map(r -> " relay=" + r).orElse("");
            LOG.info("event=blob_path blob={} peer={} path={} transport={} bytes={}{}", e.blob(), peer.get(),
                    c.map(ConnectionPaths::path).orElse("gone"), c.map(ConnectionPaths::transport).orElse("none"),
                    source.getValue(), relay);
        }
        if (e.registryBytes() > 0) {
            LOG.info("event=blob_path blob={} peer=registry bytes={}", e.blob(), e.registryBytes());
        }
    }

    /** A source id is a peer's base58 id, or the registry's id (not a peer id). */
    private static Optional<PeerId> peer(String sourceId) {
        try {
            return Optional.of(PeerId.parse(sourceId));
        } catch (RuntimeException notAPeer) {
            return Optional.empty();
        }
    }
}
