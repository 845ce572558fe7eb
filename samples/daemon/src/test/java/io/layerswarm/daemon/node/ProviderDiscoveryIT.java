package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery through Kademlia provider records alone. A is a DHT server holding nothing; C (a DHT
 * client, so nobody learns of it from the DHT) joins through A before B does, so C's routing table
 * never lists B; B joins through A, pulls an image and provides its blobs (the records land on A).
 * With periodic connect-to-everyone off, C's only way to B is GET_PROVIDERS at A: with the registry
 * stopped, C's mirror must get every layer byte from B.
 */
class ProviderDiscoveryIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    @Test
    void aNodeFindsTheHolderOnlyThroughProviderRecords() throws Exception {
        Corpus.Image image = Corpus.small().images().get(0);
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        Corpus.small().pushTo(registry.baseUri().toString());
        String up = registry.baseUri().toString();
        List<String> quiet = List.of("--connect-all", "false");

        NodeProcess a = NodeProcess.start("kad-a", tmp.resolve("a"), up, quiet);
        open.add(a);
        List<String> viaA = new ArrayList<>(quiet);
        viaA.addAll(List.of("--bootstrap", a.listen));
        List<String> clientViaA = new ArrayList<>(viaA);
        clientViaA.add("--dht-client");
        NodeProcess c = NodeProcess.start("kad-c", tmp.resolve("c"), up, clientViaA);
        open.add(c);
        c.awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);
        NodeProcess b = NodeProcess.start("kad-b", tmp.resolve("b"), up, viaA, "DEBUG");
        open.add(b);
        b.awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);
        String bId = b.listen.substring(b.listen.lastIndexOf("/p2p/") + 5);

        // B pulls the image through its own mirror and provides every blob it committed
        String manifest = image.name() + "/manifests/" + image.tag();
        assertEquals(image.manifestDigest(), NodeProcess.sha256(b.mirrorGet("/v2/" + manifest)));
        List<String> layers = image.layers().stream().map(Corpus.Layer::digest).toList();
        for (String d : layers) {
            assertEquals(d, NodeProcess.sha256(b.mirrorGet("/v2/" + image.name() + "/blobs/" + d)));
        }
        for (String d : layers) {
            b.awaitEvent(l -> l.contains("event=kad_provided blob=" + d) && !l.contains("peers=0"), 30);
        }

        // C resolves the tag upstream, then the registry goes away: blobs can only come from B
        assertEquals(image.manifestDigest(), NodeProcess.sha256(c.mirrorGet("/v2/" + manifest)));
        registry.close();
        assertTrue(c.events().stream().noneMatch(l -> l.contains("event=peer_connected peer=" + bId)),
                "C is not connected to B before looking up providers: " + c.events());
        long t0 = System.nanoTime();
        for (String d : layers) {
            assertEquals(d, NodeProcess.sha256(c.mirrorGet("/v2/" + image.name() + "/blobs/" + d)));
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String firstLayer = layers.get(0);
        String found = c.awaitEvent(l -> l.contains("event=kad_providers blob=" + firstLayer), 30);
        assertTrue(found.contains("found=1 ") && found.contains("reachable=1"), found);
        assertTrue(c.events().stream().anyMatch(l -> l.contains("event=peer_connected peer=" + bId)),
                "C connected to B after finding it as provider");
        long peerBytes = 0;
        for (String d : layers) {
            String fetched = c.awaitEvent(l -> l.contains("event=blob_fetched") && l.contains("blob=" + d), 30);
            assertTrue(fetched.contains("registry_bytes=0"), fetched);
            assertTrue(fetched.contains(bId), "bytes came from B " + bId + ": " + fetched);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("peer_bytes=(\\d+)").matcher(fetched);
            assertTrue(m.find(), fetched);
            peerBytes += Long.parseLong(m.group(1));
        }
        long layerBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        assertEquals(layerBytes, peerBytes, "every layer byte came from B");
        System.out.printf("provider-discovery: layers=%d bytes=%d fetch_ms=%d%n", layers.size(), layerBytes, ms);
    }
}
