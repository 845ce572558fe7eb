package io.layerswarm.handoff;

import io.layerswarm.cache.layer.RootGuard;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.node.PulledImage;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of handoffs on a node: pre-syncs images through the node (from swarm peers) into
 * its container engine, keeps one {@link RoundReceiver} per session (with the new container's image
 * files as content it already holds) and, on restore, fills the container's writable layer and starts it.
 */
final class TargetSessions implements HandoffTarget {
    private static final Logger LOG = LoggerFactory.getLogger(TargetSessions.class);

    private final Node node;
    private final ContainerRuntime runtime;
    private final Path workDir;
    private final RoundReceiver.Limits limits;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    private record Session(PeerId source, ContainerConfig config, RoundReceiver receiver, WritableLayer layer,
                           Path dir) {
    }

    TargetSessions(Node node, ContainerRuntime runtime, Path workDir, RoundReceiver.Limits limits) {
        this.node = Objects.requireNonNull(node, "node");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.workDir = Objects.requireNonNull(workDir, "workDir");
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    @Override
    public Optional<RoundReceiver> receiver(PeerId peer, String session) {
        Session s = sessions.get(session);
        return s != null && s.source().equals(peer) ? Optional.of(s.receiver()) : Optional.empty();
    }

    @Override
    public PrepareStats prepare(PeerId peer, ImageRef image) throws IOException {
        AtomicLong fromPeers = new AtomicLong();
        AtomicLong fromRegistry = new AtomicLong();
        Set<String> wanted = ConcurrentHashMap.newKeySet();
        NodeListener count = new NodeListener() {
            @Override
            public void blobFetched(NodeEvent.BlobFetched e) {
                if (wanted.isEmpty() || wanted.contains(e.blob().toString())) {
                    fromPeers.addAndGet(e.peerBytes());
                    fromRegistry.addAndGet(e.registryBytes());
                }
            }
        };
        node.addListener(count);
        try {
            PulledImage pulled = node.pull(image.namespace(), image.repository(), image.digest(), Platform.linuxAmd64());
            wanted.addAll(pulled.blobs().stream().map(Descriptor::digest).map(Object::toString)
                    .collect(Collectors.toSet()));
            // containerd unpacks from this node's mirror, which now serves every blob from the store
            runtime.pull(image);
        } finally {
            node.removeListener(count);
        }
        LOG.info("event=handoff.prepared source={} image={} peerBytes={} registryBytes={}", peer.toBase58(),
                image.reference(), fromPeers.get(), fromRegistry.get());
        return new PrepareStats(fromPeers.get(), fromRegistry.get());
    }

    @Override
    public void begin(PeerId peer, String session, ContainerConfig config) throws IOException {
        if (!session.matches("[A-Za-z0-9_.-]{1,160}")) {
            throw new IllegalArgumentException("not a session id: '" + session + "'");
        }
        if (sessions.containsKey(session)) {
            throw new IOException("session " + session + " exists");
        }
        runtime.pull(config.image()); // fast after prepare; without it the layers come from peers now
        runtime.create(config);
        Path dir = workDir.resolve(session);
        try {
            WritableLayer layer = runtime.writableLayer(config.id());
            RoundReceiver r = RoundReceiver.open(dir, ImageFiles.index(layer.imageDirs()), limits);
            if (sessions.putIfAbsent(session, new Session(peer, config, r, layer, dir)) != null) {
                throw new IOException("session " + session + " exists");
            }
        } catch (IOException | RuntimeException e) {
            discard(config.id(), dir);
            throw e;
        }
        LOG.info("event=handoff.begun source={} session={} container={}", peer.toBase58(), session, config.id());
    }

    /** Applies the committed round to the (not yet started) container, so the restore has only the rest. */
    @Override
    public void committed(PeerId peer, String session) throws IOException {
        Session s = owned(peer, session);
        s.receiver().installInto(s.layer().dir());
    }

    @Override
    public void restore(PeerId peer, String session) throws IOException {
        Session s = owned(peer, session);
        try {
            s.receiver().installInto(s.layer().dir());
            runtime.start(s.config().id());
        } catch (IOException | RuntimeException e) {
            // nothing half-applied is left to start: the source rolls back
            sessions.remove(session);
            discard(s.config().id(), s.dir());
            throw e;
        }
        sessions.remove(session);
        RootGuard.deleteTree(s.dir());
        LOG.info("event=handoff.restored source={} session={} container={}", peer.toBase58(), session,
                s.config().id());
    }

    @Override
    public void abort(PeerId peer, String session) throws IOException {
        Session s = owned(peer, session);
        sessions.remove(session);
        discard(s.config().id(), s.dir());
        LOG.info("event=handoff.aborted source={} session={}", peer.toBase58(), session);
    }

    private Session owned(PeerId peer, String session) throws IOException {
        Session s = sessions.get(session);
        if (s == null || !s.source().equals(peer)) {
            throw new IOException("no handoff session " + session + " of " + peer.toBase58());
        }
        return s;
    }

    private void discard(String container, Path dir) {
        try {
            runtime.remove(container);
        } catch (IOException e) {
            LOG.warn("event=handoff.discardFailed container={} error=\"{}\"", container, e.getMessage());
        }
        try {
            RootGuard.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("event=handoff.discardFailed dir={} error=\"{}\"", dir, e.getMessage());
        }
    }

    /** Removes every open session's container (the node is stopping). */
    void closeAll() {
        for (Map.Entry<String, Session> e : sessions.entrySet()) {
            sessions.remove(e.getKey());
            discard(e.getValue().config().id(), e.getValue().dir());
        }
    }

    /** Makes the work directory. */
    void init() throws IOException {
        Files.createDirectories(workDir);
    }
}
