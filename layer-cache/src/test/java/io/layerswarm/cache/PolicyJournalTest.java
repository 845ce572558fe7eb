package io.layerswarm.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.policy.ArcPolicy;
import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.PolicyState;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyJournalTest {
    @TempDir
    Path dir;

    private static PolicyState sample() {
        ArcPolicy arc = ArcPolicy.plain(100);
        for (String k : new String[] {"a", "b", "a", "c", "d", "b"}) {
            arc.request(ImageRequest.ofLayer(k, 30));
        }
        return arc.exportState();
    }

    @Test
    void roundTripsAndLeavesNoTempFiles() throws Exception {
        Path f = dir.resolve("j.json");
        assertNull(PolicyJournal.read(f));
        PolicyState s = sample();
        PolicyJournal.write(f, s);
        PolicyJournal.write(f, s);
        assertEquals(s, PolicyJournal.read(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void garbageIsRejectedWithAClearMessage() throws Exception {
        Path f = dir.resolve("j.json");
        PolicyJournal.write(f, sample());
        byte[] good = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(good, good.length / 2));
        IOException truncated = assertThrows(IOException.class, () -> PolicyJournal.read(f));
        assertTrue(truncated.getMessage().contains("corrupt"), truncated.getMessage());
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        Files.write(f, random);
        assertTrue(assertThrows(IOException.class, () -> PolicyJournal.read(f)).getMessage().contains("journal"));
        Files.writeString(f, "{\"version\":2,\"state\":null}");
        assertTrue(assertThrows(IOException.class, () -> PolicyJournal.read(f)).getMessage().contains("version 1"));
        Files.writeString(f, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
        assertThrows(IOException.class, () -> PolicyJournal.read(f));
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(PolicyJournal.MAX_BYTES + 1); // sparse: refused before reading
        }
        assertTrue(assertThrows(IOException.class, () -> PolicyJournal.read(f)).getMessage().contains("limit"));
    }
}
