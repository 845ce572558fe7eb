package io.layerswarm.daemon.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.Main;
import io.layerswarm.daemon.demo.DemoImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FanOutBenchCommandTest {
    @TempDir
    Path tmp;

    @Test
    void printsOneRowPerModeWithDirectRegistryBytesNTimesTheImage() throws Exception {
        Path layout = DemoImage.extractTo(tmp.resolve("layout"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            rc = Main.run("bench-fanout", "--layout", layout.toString(), "--nodes", "2", "--uplink-mbps", "200",
                    "--uplink-latency-ms", "5", "--piece-kib", "256", "--claim-wait-ms", "3000");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        long image = 1148206 + 534 + 710;
        String direct = out.lines().filter(l -> l.startsWith("| 2 | direct |")).findFirst().orElseThrow();
        assertEquals(String.valueOf(2 * image), direct.split("\\|")[5].trim(), out);
        String swarm = out.lines().filter(l -> l.startsWith("| 2 | swarm |")).findFirst().orElseThrow();
        long swarmBytes = Long.parseLong(swarm.split("\\|")[5].trim());
        assertTrue(swarmBytes >= image && swarmBytes < 2 * image, out);
    }

    @Test
    void rejectsAMissingLayout() {
        assertEquals(1, Main.run("bench-fanout", "--layout", tmp.resolve("nope").toString()));
    }
}
