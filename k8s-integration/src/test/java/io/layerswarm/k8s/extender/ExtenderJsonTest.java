package io.layerswarm.k8s.extender;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExtenderJsonTest {
    private final ExtenderJson json = new ExtenderJson();

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ExtenderJsonTest.class.getResourceAsStream("/extender/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void readsNodeCacheCapableArgsAsTheSchedulerSendsThem() throws IOException {
        ExtenderArgs args = json.read(resource("args-node-names.json"), ExtenderArgs.class);
        assertTrue(args.nodeCacheCapable());
        assertEquals(List.of("edge-a", "edge-b", "edge-c"), args.candidateNames());
        assertEquals("web-7d4b9c", args.pod().getMetadata().getName());
        assertEquals("registry.example:5000/shop/web:3.1", args.pod().getSpec().getContainers().get(0).getImage());
        assertEquals("registry.example:5000/tools/init:1.2", args.pod().getSpec().getInitContainers().get(0).getImage());
        assertEquals(new Quantity("1Gi"), args.pod().getSpec().getContainers().get(0).getResources().getRequests().get("ephemeral-storage"));
    }

    @Test
    void readsFullNodeListArgs() throws IOException {
        ExtenderArgs args = json.read(resource("args-nodes.json"), ExtenderArgs.class);
        assertFalse(args.nodeCacheCapable());
        assertNull(args.nodeNames());
        assertEquals(List.of("edge-a", "edge-b"), args.candidateNames());
        assertEquals(157286400L, args.node("edge-a").getStatus().getImages().get(0).getSizeBytes());
    }

    @Test
    void outerFieldNamesAreCaseInsensitiveLikeGo() {
        ExtenderArgs args = json.read("{\"pod\":{\"metadata\":{\"name\":\"p\"}},\"NODENAMES\":[\"n1\"]}"
                .getBytes(StandardCharsets.UTF_8), ExtenderArgs.class);
        assertEquals(List.of("n1"), args.candidateNames());
        ExtenderBindingArgs b = json.read("{\"podname\":\"p\",\"podNamespace\":\"ns\",\"poduid\":\"u\",\"node\":\"n\"}"
                .getBytes(StandardCharsets.UTF_8), ExtenderBindingArgs.class);
        assertEquals(new ExtenderBindingArgs("p", "ns", "u", "n"), b);
    }

    @Test
    void writesPascalCaseFieldsExactlyAsUpstream() throws IOException {
        ExtenderFilterResult r = new ExtenderFilterResult(null, List.of("edge-a"),
                Map.of("edge-b", "layer cache cannot take 300.0 MiB"), Map.of(), null);
        JsonNode written = json.mapper().readTree(json.write(r));
        assertEquals(json.mapper().readTree(resource("filter-result.json")), written);
        HostPriorityList list = new HostPriorityList(List.of(new HostPriority("edge-a", 10), new HostPriority("edge-b", 0)));
        assertEquals(json.mapper().readTree(resource("host-priority-list.json")), json.mapper().readTree(json.write(list)));
        assertEquals("{\"Error\":\"\"}", new String(json.write(ExtenderBindingResult.ok()), StandardCharsets.UTF_8));
    }

    @Test
    void roundTripsEveryMessage() throws IOException {
        for (String name : List.of("args-node-names.json", "args-nodes.json")) {
            ExtenderArgs a = json.read(resource(name), ExtenderArgs.class);
            ExtenderArgs again = json.read(json.write(a), ExtenderArgs.class);
            assertEquals(a.candidateNames(), again.candidateNames());
            assertEquals(a.pod(), again.pod());
            assertEquals(a.nodes(), again.nodes());
        }
        ExtenderBindingArgs b = json.read(resource("binding-args.json"), ExtenderBindingArgs.class);
        assertEquals(new ExtenderBindingArgs("web-7d4b9c", "shop", "5f0c1a2e-9b1d-4c1e-8a57-0d6f2a3b4c5d", "edge-b"), b);
        assertEquals(b, json.read(json.write(b), ExtenderBindingArgs.class));
        ExtenderFilterResult f = json.read(resource("filter-result.json"), ExtenderFilterResult.class);
        assertEquals(f, json.read(json.write(f), ExtenderFilterResult.class));
        HostPriorityList h = json.read(resource("host-priority-list.json"), HostPriorityList.class);
        assertEquals(2, h.priorities().size());
        assertEquals(h, json.read(json.write(h), HostPriorityList.class));
    }

    @Test
    void garbageIsARequestErrorWithAMessage() {
        List<String> bad = List.of("", "{", "[]", "null", "{\"Pod\":5}", "{\"NodeNames\":{}}", "\u0000\u0001garbage",
                "{\"Pod\":{}} trailing");
        for (String body : bad) {
            ExtenderRequestException e = assertThrows(ExtenderRequestException.class,
                    () -> json.read(body.getBytes(StandardCharsets.UTF_8), ExtenderArgs.class), body);
            assertTrue(e.getMessage().contains("ExtenderArgs"), e.getMessage());
        }
        assertThrows(ExtenderRequestException.class, () -> json.read("{\"Host\":\"a\",\"Score\":11}".getBytes(StandardCharsets.UTF_8), HostPriority.class));
        assertThrows(ExtenderRequestException.class, () -> json.read(new byte[ExtenderJson.MAX_REQUEST_BYTES + 1], ExtenderArgs.class));
    }

    @Test
    void argsWithoutCandidatesOrPodAreRejected() {
        ExtenderArgs noNodes = json.read("{\"Pod\":{\"metadata\":{\"name\":\"p\"}}}".getBytes(StandardCharsets.UTF_8), ExtenderArgs.class);
        assertThrows(ExtenderRequestException.class, noNodes::candidateNames);
        ExtenderArgs noPod = json.read("{\"NodeNames\":[\"a\"]}".getBytes(StandardCharsets.UTF_8), ExtenderArgs.class);
        assertThrows(ExtenderRequestException.class, noPod::candidateNames);
        ExtenderBindingArgs b = json.read("{\"PodName\":\"p\"}".getBytes(StandardCharsets.UTF_8), ExtenderBindingArgs.class);
        assertThrows(ExtenderRequestException.class, b::validated);
    }
}
