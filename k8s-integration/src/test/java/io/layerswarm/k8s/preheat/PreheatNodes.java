package io.layerswarm.k8s.preheat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerswarm.k8s.status.StatusPublisherService;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The in-process nodes of the preheat tests, and the kubelet's pull through a node's mirror. */
public final class PreheatNodes {
    private PreheatNodes() {
    }

    /**
     * A node on loopback that publishes its status record every 200 ms and serves preheat.
     *
     * @param dir its store
     * @param name its Kubernetes node name
     * @param registry its upstream
     * @param bootstrap whom it joins, or {@code null} for no one
     * @param mirror whether it serves the registry mirror (the kubelet's path)
     */
    public static Node.Builder builder(Path dir, String name, RegistryFixture registry, Node bootstrap, boolean mirror) {
        Node.Builder b = Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(dir)
                .upstream(registry.baseUri())
                .service(new StatusPublisherService(name, Duration.ofMillis(200), Clock.systemUTC()))
                .service(new PreheatService());
        if (mirror) {
            b.mirrorListen(new InetSocketAddress("127.0.0.1", 0));
        } else {
            b.noMirror();
        }
        if (bootstrap != null) {
            b.bootstrap(bootstrap.listenAddrs().get(0));
        }
        return b;
    }

    /** The image's blobs: config, then layers. */
    public static List<String> blobs(Corpus.Image image) {
        List<String> out = new ArrayList<>();
        out.add(image.configDigest());
        image.layers().forEach(l -> out.add(l.digest()));
        return out;
    }

    /** Pulls manifest and every blob through {@code node}'s mirror as the kubelet would, checking each. */
    public static void pullThroughMirror(Node node, Corpus.Image image) throws IOException {
        RegistryClient kubelet = RegistryClient.builder(node.mirrorUrl().orElseThrow()).build();
        assertEquals(image.manifestDigest(), kubelet.getManifest(image.name(), image.tag()).digest().toString());
        for (String blob : blobs(image)) {
            byte[] got = kubelet.fetchBlob(image.name(), Digest.parse(blob), 64 << 20);
            assertEquals(Files.size(image.blob(blob)), got.length, blob);
            assertEquals(Digest.parse(blob), Digest.sha256(got), blob);
        }
    }
}
