package io.layerswarm.k8s.preheat;

import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Collects, while registered on a node, the fetched-blob events: which blob came in, and how many of its
 * bytes from peers and from the registry. {@code Node.pull} returns only after the events of the blobs it
 * fetched are out, so after the pull the tally is complete for that image.
 */
final class FetchTally implements NodeListener {
    private final Map<String, NodeEvent.BlobFetched> fetched = new ConcurrentHashMap<>();

    @Override
    public void blobFetched(NodeEvent.BlobFetched event) {
        fetched.put(event.blob().toString(), event);
    }

    /** The fetch of {@code digest} seen while registered, if any. */
    Optional<NodeEvent.BlobFetched> of(String digest) {
        return Optional.ofNullable(fetched.get(digest));
    }
}
