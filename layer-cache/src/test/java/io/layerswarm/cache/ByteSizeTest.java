package io.layerswarm.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteSizeTest {
    @Test
    void parsesPlainSiAndIecSizes() {
        assertEquals(0, ByteSize.parse("0"));
        assertEquals(1048576, ByteSize.parse("1048576"));
        assertEquals(500_000_000L, ByteSize.parse("500MB"));
        assertEquals(500_000_000L, ByteSize.parse("500 mb"));
        assertEquals(1L << 30, ByteSize.parse("1GiB"));
        assertEquals(1_500_000_000L, ByteSize.parse("1.5GB"));
        assertEquals(2048, ByteSize.parse("2KiB"));
        assertEquals("500MB", ByteSize.format(500_000_000L));
        assertEquals("2GB", ByteSize.format(2_000_000_000L));
    }

    @Test
    void garbageIsRejectedClearly() {
        for (String bad : new String[] {"", "  ", "MB", "-5", "1XB", "1.2.3GB", "abc", "99999999999999999999GB",
                "1".repeat(100), "\u0000\u0001"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(bad), bad);
            assertTrue(e.getMessage().contains("size"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(null));
    }
}
