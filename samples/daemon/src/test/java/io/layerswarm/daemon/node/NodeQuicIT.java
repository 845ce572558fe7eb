package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code layerswarm node} processes over QUIC: A listens on TCP and {@code /udp/0/quic-v1} ({@code --listen}
 * repeated), B bootstraps to A's QUIC address only; both say {@code transport=quic} for the connection, and the
 * layers A pulled reach B over it with no blob bytes from the registry.
 */
class NodeQuicIT {
    @TempDir
    Path tmp;

    private static String peerId(String addr) {
        return addr.substring(addr.lastIndexOf("/p2p/") + 5);
    }

    @Test
    void aNodeJoinsThroughAQuicAddressAndGetsTheLayersOverIt() throws Exception {
        Corpus.Image image = Corpus.small().images().get(0);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            Corpus.small().pushTo(registry.baseUri().toString());
            joinOverQuic(image, registry.baseUri().toString());
        }
    }

    private void joinOverQuic(Corpus.Image image, String up) throws Exception {
        List<String> quiet = new ArrayList<>(List.of("--connect-all", "false"));
        quiet.addAll(NodeProcess.PATIENT);

        List<String> aArgs = new ArrayList<>(quiet);
        aArgs.addAll(List.of("--listen", "/ip4/127.0.0.1/udp/0/quic-v1"));
        try (NodeProcess a = NodeProcess.start("quic-a", tmp.resolve("a"), up, aArgs)) {
            pullThenJoin(image, a, quiet, up);
        }
    }

    private void pullThenJoin(Corpus.Image image, NodeProcess a, List<String> quiet, String up) throws Exception {
        assertEquals(2, a.listens.size(), a.listens.toString());
        String aQuic = a.listens.get(1);
        assertTrue(aQuic.matches("/ip4/127\\.0\\.0\\.1/udp/\\d+/quic-v1/p2p/12D3\\w+"), aQuic);

        // A pulls the image through its mirror: from the registry
        String manifest = "/v2/" + image.name() + "/manifests/" + image.tag();
        assertEquals(image.manifestDigest(), NodeProcess.sha256(a.mirrorGet(manifest)));
        List<String> layers = image.layers().stream().map(Corpus.Layer::digest).toList();
        for (String d : layers) {
            assertEquals(d, NodeProcess.sha256(a.mirrorGet("/v2/" + image.name() + "/blobs/" + d)));
        }

        List<String> bArgs = new ArrayList<>(quiet);
        bArgs.addAll(List.of("--bootstrap", aQuic));
        try (NodeProcess b = NodeProcess.start("quic-b", tmp.resolve("b"), up, bArgs)) {
            fetchOverQuic(image, manifest, layers, a, b);
        }
    }

    private static void fetchOverQuic(Corpus.Image image, String manifest, List<String> layers, NodeProcess a,
            NodeProcess b) throws Exception {
        String aId = peerId(a.listen);
        String bId = peerId(b.listen);
        b.awaitEvent(l -> l.contains("event=peer_connected peer=" + aId + " path=direct transport=quic rtt_ms="), 60);
        a.awaitEvent(l -> l.contains("event=peer_connected peer=" + bId + " path=direct transport=quic rtt_ms="), 60);

        assertEquals(image.manifestDigest(), NodeProcess.sha256(b.mirrorGet(manifest)));
        for (String d : layers) {
            assertEquals(d, NodeProcess.sha256(b.mirrorGet("/v2/" + image.name() + "/blobs/" + d)));
            String fetched = b.awaitEvent(l -> l.contains("event=blob_fetched") && l.contains("blob=" + d), 30);
            assertTrue(fetched.contains("registry_bytes=0") && fetched.contains(aId), "from A over QUIC: " + fetched);
        }
        assertTrue(b.events().stream().noneMatch(l -> l.contains("event=peer_connected") && l.contains("transport=tcp")),
                "B made no TCP connection: " + b.events());
    }
}
