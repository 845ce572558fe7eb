package io.layerswarm.daemon.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.CliRun;
import io.layerswarm.k8s.preheat.PreheatService;
import io.layerswarm.k8s.status.StatusPublisherService;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code layerswarm preheat} against in-process nodes and a real docker-registry: node a holds the image,
 * the command (a light peer) builds the view from the nodes' status records, plans, and has node c fetch
 * every layer from a; the registry sends no layer bytes for it. Bad flags give one {@code error:} line.
 */
class PreheatCommandIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    private Node node(String name, RegistryFixture registry) throws Exception {
        Node n = Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve(name))
                .upstream(registry.baseUri()).noMirror()
                .service(new StatusPublisherService(name, Duration.ofMillis(200), Clock.systemUTC()))
                .service(new PreheatService())
                .start();
        open.add(n);
        return n;
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // three nodes' worth of work on a loaded 2-core machine
    void preheatsANodeFromThePeerThatHoldsTheImage() throws Exception {
        Corpus.Image image = Corpus.small().largest();
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        Corpus.small().pushTo(registry.baseUri().toString());
        Node a = node("a", registry);
        Node c = node("c", registry);
        a.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        Map<String, Long> before = registry.blobBytesServed();

        String ref = registry.hostPort() + "/" + image.name() + ":" + image.tag();
        CliRun r = CliRun.of("preheat", "--image", ref, "--node", "c",
                "--bootstrap", a.listenAddrs().get(0).toString(), "--bootstrap", c.listenAddrs().get(0).toString(),
                "--upstream", registry.baseUri().toString());
        System.out.println("preheat-cli: " + r.out().replace("\n", "\npreheat-cli: "));
        assertEquals(0, r.status(), r.err() + r.out());
        assertTrue(r.out().contains(": OK peer_bytes="), r.out());
        assertTrue(r.out().contains(" registry_bytes=0 "), r.out());
        for (Corpus.Layer l : image.layers()) {
            assertTrue(c.store().contains(Digest.parse(l.digest())), "c holds " + l.digest());
            assertTrue(r.out().contains("PEER a  " + l.digest()), r.out());
            assertEquals(before.get(l.digest()), registry.blobBytesServed().get(l.digest()), "registry bytes of " + l.digest());
        }
    }

    @Test
    void badFlagsGiveOneErrorLine() {
        for (String[] args : List.of(
                new String[] {"preheat", "--image", "UPPER/case:1", "--node", "c", "--bootstrap", "/ip4/127.0.0.1/tcp/1/p2p/"
                        + "12D3KooWJHaD6YNpZgA8QwzPj35man84K8SiJMMSR55PEcvneCJh"},
                new String[] {"preheat", "--image", "app:1", "--node", "c"},
                new String[] {"preheat", "--image", "app:1", "--node", "c", "--bootstrap", "/ip4/127.0.0.1/tcp/1"},
                new String[] {"preheat", "--image", "app:1", "--node", "/ip4/127.0.0.1/tcp/1"},
                new String[] {"preheat", "--image", "app:1", "--node", "c", "--bootstrap", "/ip4/127.0.0.1/tcp/1/p2p/"
                        + "12D3KooWJHaD6YNpZgA8QwzPj35man84K8SiJMMSR55PEcvneCJh", "--upstream", "registry:5000"},
                new String[] {"preheat", "--node", "c"})) {
            CliRun r = CliRun.of(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.err());
            List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), String.join(" ", args) + ": " + r.err());
            assertTrue(lines.get(0).startsWith("error: "), lines.get(0));
        }
    }
}
