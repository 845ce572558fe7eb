package io.layerswarm.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TurnServerTest {
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 3478);

    @TempDir
    Path dir;

    private void assertMessage(String expected, Path file, String user) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TurnServer.withPasswordFile(SERVER, user, file));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void thePasswordComesFromTheFileWithoutItsLineBreak() throws Exception {
        Path f = Files.writeString(dir.resolve("pw"), "s3cret pass\r\n");
        TurnServer t = TurnServer.withPasswordFile(SERVER, "edge", f);
        assertEquals(new TurnServer(SERVER, "edge", "s3cret pass"), t);
        assertFalse(t.toString().contains("s3cret"), t.toString());
    }

    @Test
    void badPasswordFilesSayWhatIsWrongAndNameTheFile() throws Exception {
        Path missing = dir.resolve("missing");
        assertMessage("turn password file " + missing + ": not found", missing, "edge");
        assertMessage(": is empty", Files.writeString(dir.resolve("empty"), ""), "edge");
        assertMessage(": is empty", Files.writeString(dir.resolve("newline"), "\n\n"), "edge");
        assertMessage(": has more than one line", Files.writeString(dir.resolve("two"), "a\nb\n"), "edge");
        assertMessage(": larger than 4096 bytes", Files.writeString(dir.resolve("big"), "x".repeat(5000)), "edge");
        assertMessage(": is a directory", dir, "edge");
        assertMessage("longer than 256", Files.writeString(dir.resolve("long"), "x".repeat(257)), "edge");
        assertMessage("control character", Files.writeString(dir.resolve("nul"), "pa\0ss"), "edge");
    }

    @Test
    void badUsersAndAddressesAreRefusedBeforeAnyFileIsRead() {
        Path missing = dir.resolve("missing");
        assertMessage("turn user is empty", missing, "");
        assertMessage("turn user is empty", missing, null);
        assertMessage("turn user contains a control character", missing, "ed\nge");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TurnServer(new InetSocketAddress("127.0.0.1", 0), "edge", "pw"));
        assertTrue(e.getMessage().contains("needs a port"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new TurnServer(null, "edge", "pw"));
    }
}
