package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The control API's refusals over real loopback HTTP. The service behind it is not started (no node):
 * a well-formed request gets the service's failure as a 502.
 */
class HandoffControlServerTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String PEER = PeerId.fromPublicKey(Ed25519PrivateKey.generate().publicKey()).toBase58();

    @TempDir
    Path tmp;

    private static HttpResponse<String> send(URI base, String method, String pathAndQuery) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(base.resolve(pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HandoffService unstartedService() {
        return new HandoffService(HandoffService.Config.defaults(new Unreachable(), tmp));
    }

    @Test
    void unknownPathsAndWrongMethodsAreRefused() throws Exception {
        try (HandoffControlServer s = HandoffControlServer.start(new InetSocketAddress("127.0.0.1", 0), unstartedService())) {
            assertEquals(404, send(s.url(), "POST", "/v1/other").statusCode());
            assertEquals(405, send(s.url(), "GET", "/v1/handoff/run?container=a&target=" + PEER).statusCode());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing target | container=a",
        "bad peer       | container=a&target=xyz",
        "twice          | container=a&container=b&target=PEER",
        "malformed      | container&target=PEER"})
    void badQueriesGetAClearJsonError(String why, String query) throws Exception {
        try (HandoffControlServer s = HandoffControlServer.start(new InetSocketAddress("127.0.0.1", 0), unstartedService())) {
            HttpResponse<String> r = send(s.url(), "POST", "/v1/handoff/run?" + query.replace("PEER", PEER));
            assertEquals(400, r.statusCode(), why + ": " + r.body());
            assertTrue(r.body().startsWith("{\"error\":"), r.body());
        }
    }

    @Test
    void aWellFormedRequestGetsTheServicesFailureAs502() throws Exception {
        try (HandoffControlServer s = HandoffControlServer.start(new InetSocketAddress("127.0.0.1", 0), unstartedService())) {
            HttpResponse<String> r = send(s.url(), "POST", "/v1/handoff/prepare?container=a&target=" + PEER);
            assertEquals(502, r.statusCode(), r.body());
            assertTrue(r.body().contains("not started"), r.body());
        }
    }

    @Test
    void listensOnLoopbackOnly() {
        HandoffService service = unstartedService();
        assertThrows(IllegalArgumentException.class,
                () -> HandoffControlServer.start(new InetSocketAddress("0.0.0.0", 0), service));
    }

    /** A runtime never reached: these requests fail before any container is touched. */
    private static final class Unreachable implements ContainerRuntime {
        @Override
        public ContainerConfig inspect(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public TaskState taskState(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public WritableLayer writableLayer(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public void pull(ImageRef image) {
            throw new AssertionError("not reached");
        }

        @Override
        public void create(ContainerConfig config) {
            throw new AssertionError("not reached");
        }

        @Override
        public void start(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public void pause(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public void resume(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public void stop(String id) {
            throw new AssertionError("not reached");
        }

        @Override
        public void remove(String id) {
            throw new AssertionError("not reached");
        }
    }
}
