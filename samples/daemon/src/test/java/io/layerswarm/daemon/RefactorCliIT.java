package io.layerswarm.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code layerswarm refactor analyze|apply} and {@code layerswarm delta} against a real registry. */
class RefactorCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode run(String... args) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int status;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            status = Main.run(args);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, String.join(" ", args) + " failed: " + out);
        return JSON.readTree(out);
    }

    @Test
    void analyzeApplyAndDeltaOnTheSmallCorpus() throws Exception {
        Corpus corpus = Corpus.small();
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            corpus.pushTo(reg.baseUri().toString());
            List<String> imageArgs = new ArrayList<>();
            for (Corpus.Image img : corpus.images()) {
                imageArgs.add("--image");
                imageArgs.add(img.ref());
            }
            List<String> analyze = new ArrayList<>(List.of("refactor", "analyze", "--registry", reg.baseUri().toString(), "--json"));
            analyze.addAll(imageArgs);
            JsonNode a = run(analyze.toArray(String[]::new));
            assertEquals(corpus.images().size(), a.get("images").asInt());
            assertEquals(corpus.images().size(), a.get("perImage").size());
            assertTrue(a.get("redundantBytes").asLong() > 0, a.toString());
            assertTrue(a.get("idealBytes").asLong() < a.get("totalBytes").asLong());

            List<String> apply = new ArrayList<>(List.of("refactor", "apply", "--registry", reg.baseUri().toString(),
                    "--suffix", "-rf", "--mode", "path", "--json"));
            apply.addAll(imageArgs);
            JsonNode p = run(apply.toArray(String[]::new));
            JsonNode s = p.get("summary");
            assertEquals(a.get("redundantBytes").asLong(), s.get("before").get("redundantBytes").asLong());
            assertTrue(s.get("after").get("redundantBytes").asLong() < s.get("before").get("redundantBytes").asLong());
            assertEquals(corpus.images().size(), p.get("pushed").size());
            assertTrue(p.get("pushed").get(0).get("target").asText().endsWith("-rf"));

            Corpus.Image clock1 = corpus.image("clock:1");
            Corpus.Image clock2 = corpus.image("clock:2");
            JsonNode d = run("delta", "--registry", reg.baseUri().toString(), "--from", clock1.ref(), "--to", clock2.ref(), "--json");
            assertTrue(d.get("updateBytes").asLong() > 0, d.toString());
            assertTrue(d.get("deltaBytes").asLong() > 0, d.toString());
            assertTrue(d.has("duplicatedBytes"));
        }
    }
}
