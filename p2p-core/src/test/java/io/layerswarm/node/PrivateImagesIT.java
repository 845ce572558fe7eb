package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.RegistryException;
import io.layerswarm.registry.RetryPolicy;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Private upstream repositories stay private on a node that caches them with its own credentials:
 * its mirror serves them only to clients whose credentials the upstream (docker-registry in token
 * mode) accepts, and peers get their layers only inside a swarm that shares a swarm key.
 */
class PrivateImagesIT {
    private static final String PRIVATE_REPO = RegistryFixture.PRIVATE_PREFIX + "clock";
    private static final String PUBLIC_REPO = "public/httpd";
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    /** Pushes a corpus image with the registry's user (anonymous callers may not push). */
    private static void push(RegistryFixture reg, Corpus.Image image, String repo) throws Exception {
        RegistryClient c = RegistryClient.builder(reg.baseUri()).credentials(reg.username(), reg.password()).build();
        c.pushBlob(repo, Digest.parse(image.configDigest()), image.blob(image.configDigest()));
        for (Corpus.Layer l : image.layers()) {
            c.pushBlob(repo, Digest.parse(l.digest()), image.blob(l.digest()));
        }
        c.putManifest(repo, image.tag(), Files.readAllBytes(image.blob(image.manifestDigest())), MediaTypes.OCI_MANIFEST);
    }

    private Node node(String name, RegistryFixture reg, SwarmKey key, Node bootstrap, List<NodeEvent> events)
            throws Exception {
        Node.Builder b = Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve(name))
                .upstream(reg.baseUri(), reg.username(), reg.password())
                .mirrorListen(new InetSocketAddress("127.0.0.1", 0)).swarmKey(key)
                .listener(new NodeListener() {
                    @Override
                    public void blobFetched(NodeEvent.BlobFetched e) {
                        events.add(e);
                    }
                });
        if (bootstrap != null) {
            b.bootstrap(bootstrap.listenAddrs().get(0));
        }
        return b.start();
    }

    private static HttpResponse<byte[]> get(URI mirror, String path, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(mirror.resolve(path)).timeout(Duration.ofSeconds(60));
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A request the JDK client would refuse to send; returns the status line. */
    private static String rawGet(URI mirror, String path, String authorization) throws Exception {
        try (Socket s = new Socket(mirror.getHost(), mirror.getPort())) {
            s.setSoTimeout(60_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + authorization
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1).lines().findFirst()
                    .orElse("");
        }
    }

    @Test
    void mirrorServesAPrivateRepositoryOnlyToClientsTheUpstreamAccepts() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image clock = corpus.image("clock:1");
        Corpus.Image httpd = corpus.image("demo-httpd:1");
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.TOKEN)) {
            push(reg, clock, PRIVATE_REPO);
            push(reg, httpd, PUBLIC_REPO);
            try (Node node = node("a", reg, null, null, new CopyOnWriteArrayList<>())) {
                checkMirror(reg, node, clock, httpd);
            }
        }
    }

    private static void checkMirror(RegistryFixture reg, Node node, Corpus.Image clock, Corpus.Image httpd)
            throws Exception {
        node.pull(PRIVATE_REPO, clock.tag()); // cached with the node's own credentials
        URI mirror = node.mirrorUrl().orElseThrow();
        Digest layer = Digest.parse(clock.layers().get(0).digest());
        byte[] layerBytes = Files.readAllBytes(clock.blob(layer.toString()));
        assertTrue(node.store().contains(layer));
        Map<String, Long> registryBlobBytes = reg.blobBytesServed();

        // no credentials: the upstream's challenge, pointing at its token realm
        String blobPath = "/v2/" + PRIVATE_REPO + "/blobs/" + layer;
        HttpResponse<byte[]> anonymous = get(mirror, blobPath, null);
        assertEquals(401, anonymous.statusCode());
        String challenge = anonymous.headers().firstValue("WWW-Authenticate").orElse("");
        assertTrue(challenge.startsWith("Bearer ") && challenge.contains("realm=\"" + reg.tokenRealm().orElseThrow()),
                challenge);
        assertTrue(new String(anonymous.body(), StandardCharsets.UTF_8).contains("\"UNAUTHORIZED\""));
        assertEquals(401, get(mirror, "/v2/" + PRIVATE_REPO + "/manifests/" + clock.tag(), null).statusCode());

        // an anonymous client follows the challenge, gets a token without pull rights, and is still refused
        RegistryClient anonymousClient = RegistryClient.builder(mirror).retryPolicy(RetryPolicy.none()).build();
        RegistryException refused = assertThrows(RegistryException.class,
                () -> anonymousClient.fetchBlob(PRIVATE_REPO, layer, 8 << 20));
        assertEquals(401, refused.status(), refused.getMessage());

        // wrong credentials: a wrong password as Basic, a forged token
        String wrongBasic = "Basic " + Base64.getEncoder().encodeToString((reg.username() + ":wrong")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(401, get(mirror, blobPath, wrongBasic).statusCode());
        assertEquals(401, get(mirror, blobPath, "Bearer not.a.token").statusCode());
        // garbage credentials: refused, never served, never a server error
        assertEquals(401, get(mirror, blobPath, "Basic %%%" + "x".repeat(6000)).statusCode());
        assertEquals(401, get(mirror, blobPath, "").statusCode());
        String status = rawGet(mirror, blobPath, "Bearer \u0001\u007f\u00ff");
        assertTrue(status.startsWith("HTTP/1.1 400 ") || status.startsWith("HTTP/1.1 401 "), status);

        // the right credentials, through the token realm as any registry client does: served from the cache
        RegistryClient authorized = RegistryClient.builder(mirror).credentials(reg.username(), reg.password())
                .retryPolicy(RetryPolicy.none()).build();
        assertArrayEquals(layerBytes, authorized.fetchBlob(PRIVATE_REPO, layer, 8 << 20));
        assertEquals(Digest.parse(clock.manifestDigest()), authorized.getManifest(PRIVATE_REPO, clock.tag()).digest());
        assertArrayEquals(layerBytes, authorized.fetchBlob(PRIVATE_REPO, layer, 8 << 20)); // the cached grant
        assertEquals(registryBlobBytes, reg.blobBytesServed(), "the layer came from the node's cache");

        // a private layer is not handed out through a public repository that does not have it
        assertEquals(404, get(mirror, "/v2/" + PUBLIC_REPO + "/blobs/" + layer, null).statusCode());

        // a public repository stays open to everyone
        Digest publicLayer = Digest.parse(httpd.layers().get(0).digest());
        assertArrayEquals(Files.readAllBytes(httpd.blob(publicLayer.toString())),
                anonymousClient.fetchBlob(PUBLIC_REPO, publicLayer, 8 << 20));
    }

    @Test
    void peersGetPrivateLayersOnlyInsideASwarmThatSharesAKey() throws Exception {
        Corpus.Image clock = Corpus.small().image("clock:1");
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.TOKEN)) {
            push(reg, clock, PRIVATE_REPO);
            withoutKey(reg, clock);
            withKey(reg, clock);
        }
    }

    /** No swarm key: b pulls after a holds the image, and gets none of it from a. */
    private void withoutKey(RegistryFixture reg, Corpus.Image clock) throws Exception {
        long before = reg.blobBytesServed(clock.layers().get(0).digest());
        List<NodeEvent> openEvents = new CopyOnWriteArrayList<>();
        try (Node a = node("a", reg, null, null, openEvents)) {
            a.pull(PRIVATE_REPO, clock.tag());
            try (Node b = node("b", reg, null, a, openEvents)) {
                pullBesideAHolder(reg, clock, a, b, openEvents, before);
            }
        }
    }

    private static void pullBesideAHolder(RegistryFixture reg, Corpus.Image clock, Node a, Node b,
                                          List<NodeEvent> openEvents, long registryBytesBefore) throws Exception {
        Digest layer = Digest.parse(clock.layers().get(0).digest());
        Await.until(PATIENCE, "b connected to a", () -> b.host().connections().size() == 1);
        openEvents.clear();
        b.pull(PRIVATE_REPO, clock.tag());
        assertTrue(b.store().contains(layer));
        assertEquals(0L, peerBytes(openEvents), "a private layer crossed a swarm without a key: " + openEvents);
        assertEquals(0, (int) a.swarm().holders(layer).get(), "b announced a private layer to a");
        assertEquals(registryBytesBefore + 2 * clock.layers().get(0).size(), reg.blobBytesServed(layer.toString()),
                "each node fetched the layer from the registry");
        assertEquals(Optional.empty(), askManifest(b, reg, clock), "a shared a private manifest");
    }

    /** Asks b's peers, through the manifest exchange, for the manifest they have seen. */
    private static Optional<ManifestContent> askManifest(Node asking, RegistryFixture reg, Corpus.Image image) {
        return ManifestExchange.attach(asking.host(), Map.of(), (ns, repo) -> true, PATIENCE)
                .ask(reg.hostPort(), PRIVATE_REPO, image.tag());
    }

    /** With a swarm key: d takes the layer from c, the registry sends it once. */
    private void withKey(RegistryFixture reg, Corpus.Image clock) throws Exception {
        SwarmKey key = SwarmKey.generate();
        List<NodeEvent> keyedEvents = new CopyOnWriteArrayList<>();
        try (Node c = node("c", reg, key, null, keyedEvents)) {
            c.pull(PRIVATE_REPO, clock.tag());
            try (Node d = node("d", reg, key, c, keyedEvents)) {
                pullFromKeyedPeer(reg, clock, d, keyedEvents);
            }
        }
    }

    private static void pullFromKeyedPeer(RegistryFixture reg, Corpus.Image clock, Node d, List<NodeEvent> keyedEvents)
            throws Exception {
        Digest layer = Digest.parse(clock.layers().get(0).digest());
        Await.until(PATIENCE, "d hears that c holds the layer", () -> d.swarm().holders(layer).join() == 1);
        keyedEvents.clear();
        long before = reg.blobBytesServed(layer.toString());
        d.pull(PRIVATE_REPO, clock.tag());
        assertTrue(peerBytes(keyedEvents) >= clock.layers().get(0).size(), "inside the key: " + keyedEvents);
        assertEquals(before, reg.blobBytesServed(layer.toString()), "d got the layer from c");
        assertEquals(Digest.parse(clock.manifestDigest()), askManifest(d, reg, clock).orElseThrow().digest());
    }

    private static long peerBytes(List<NodeEvent> events) {
        return events.stream().filter(e -> e instanceof NodeEvent.BlobFetched)
                .mapToLong(e -> ((NodeEvent.BlobFetched) e).peerBytes()).sum();
    }
}
