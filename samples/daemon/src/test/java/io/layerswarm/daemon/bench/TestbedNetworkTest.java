package io.layerswarm.daemon.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The testbed network's pure parts: names, addresses, the set-up commands and the choice of 10.Y.0.0/16. */
class TestbedNetworkTest {
    private static final String TAG = "lstb99999";

    @Test
    void everyWorkerLinkIsShapedBothWaysAtTheLanRateAndTheClusterLinkAtItsRate() {
        TestbedNetwork net = TestbedNetwork.plan(TAG, 150, 2, 4);
        List<List<String>> cmds = net.setupCommands(400, 200, 0);
        long lan = cmds.stream().filter(c -> c.contains("tbf") && c.contains("400000kbit")).count();
        long inter = cmds.stream().filter(c -> c.contains("tbf") && c.contains("200000kbit")).count();
        assertEquals(2 * 4 * 2, lan, "each of 8 worker veths, both ends");
        assertEquals(2, inter, "the one link between the two clusters, both ends");
        assertTrue(cmds.stream().noneMatch(c -> c.contains("netem")), "no netem on this kernel");
        // the inter-cluster routes go over that link, not through the root namespace
        assertTrue(cmds.contains(List.of("ip", "netns", "exec", TAG + "-c0", "ip", "route", "add", "10.150.1.0/24",
                "via", "10.150.254.2")));
        assertTrue(cmds.contains(List.of("ip", "netns", "exec", TAG + "-c1", "ip", "route", "add", "10.150.0.0/24",
                "via", "10.150.254.1")));
    }

    @Test
    void withAnAddedRoundTripTheClustersAreJoinedOnlyThroughTheDelayLinesDevices() {
        TestbedNetwork net = TestbedNetwork.plan(TAG, 150, 2, 4);
        List<List<String>> cmds = net.setupCommands(400, 200, 10);
        String toB = net.lineDevice(0, 1);
        String toA = net.lineDevice(1, 0);
        assertEquals(TAG + "d01", toB);
        assertTrue(cmds.contains(List.of("ip", "link", "set", toB, "netns", TAG + "-c0")));
        assertTrue(cmds.contains(List.of("ip", "link", "set", toA, "netns", TAG + "-c1")));
        assertTrue(cmds.contains(List.of("ip", "netns", "exec", TAG + "-c0", "ip", "route", "add", "10.150.1.0/24",
                "dev", toB)));
        assertTrue(cmds.contains(List.of("ip", "netns", "exec", TAG + "-c1", "ip", "route", "add", "10.150.0.0/24",
                "dev", toA)));
        assertEquals(List.of(toB, toA), cmds.stream().filter(c -> c.contains("tbf") && c.contains("200000kbit"))
                .map(c -> c.get(c.indexOf("dev") + 1)).toList(), "the rate on both of the line's devices");
        assertTrue(cmds.stream().noneMatch(c -> c.contains("veth") && c.contains(TAG + "-c1") && c.contains(TAG + "-c0")),
                "no veth between the routers: it would bypass the line");
    }

    @Test
    void namesFitTheKernelAndStayInsideTheRunsTag() {
        TestbedNetwork net = TestbedNetwork.plan(TAG, 150, 16, 1);
        List<List<String>> all = new java.util.ArrayList<>(net.setupCommands(400, 200, 0));
        all.addAll(net.setupCommands(400, 200, 10));
        for (List<String> c : all) {
            for (int i = 0; i + 1 < c.size(); i++) {
                if (c.get(i).equals("name") || c.get(i).equals("dev") || c.subList(0, 3).equals(List.of("ip", "link", "set"))
                        && i == 3) {
                    assertTrue(c.get(i + 1).length() <= 15, "interface name over 15 bytes: " + c);
                }
            }
            if (c.size() == 4 && c.get(1).equals("netns") && c.get(2).equals("add")) {
                assertTrue(c.get(3).startsWith(TAG + "-"), c.toString());
            }
        }
        TestbedNetwork big = TestbedNetwork.plan(TAG, 150, 1, 16);
        assertEquals(TAG + "-w0-15", big.namespace(0, 15));
        assertEquals(List.of("nsenter", "--net=/run/netns/" + TAG + "-w0-15", "--"), big.exec(0, 15));
    }

    @Test
    void addressesAreDistinctAndTheRegistryIsOutsideTheClusterSubnets() {
        TestbedNetwork net = TestbedNetwork.plan(TAG, 150, 2, 4);
        Set<String> seen = new HashSet<>();
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 4; i++) {
                assertTrue(seen.add(net.address(c, i)), net.address(c, i));
                assertTrue(net.address(c, i).startsWith("10.150." + c + "."), net.address(c, i));
            }
        }
        assertEquals("10.150.255.1", net.registryAddress());
        assertFalse(seen.contains(net.registryAddress()));
    }

    @Test
    void theSecondOctetAvoidsRoutesAlreadyThere() {
        String routes = "default via 192.0.2.1 dev eth0\n10.150.0.0/24 via 10.150.250.2 dev x\n"
                + "local 10.151.255.1 dev y table local proto kernel scope host src 10.151.255.1\n";
        assertEquals(152, TestbedNetwork.freeOctet(routes, 150));
        assertEquals(149, TestbedNetwork.freeOctet(routes, 149));
        assertEquals(100, TestbedNetwork.freeOctet("", 200), "wraps within 100..199");
        StringBuilder all = new StringBuilder();
        for (int y = 100; y < 200; y++) {
            all.append("10.").append(y).append(".0.0/16 dev z\n");
        }
        assertThrows(IllegalStateException.class, () -> TestbedNetwork.freeOctet(all.toString(), 100));
    }

    @Test
    void tagsAreShortLowerCaseNames() {
        assertTrue(TestbedNetwork.validTag("lstb12345"));
        assertFalse(TestbedNetwork.validTag("lstb123456"), "10 bytes: TAGw15x15 would exceed 15");
        assertFalse(TestbedNetwork.validTag("Tb3"));
        assertFalse(TestbedNetwork.validTag("3tb"));
        assertFalse(TestbedNetwork.validTag("tb-3"));
        assertThrows(IllegalArgumentException.class, () -> TestbedNetwork.plan("x", 150, 2, 17));
        int y = TestbedNetwork.defaultOctet("lstb12345");
        assertTrue(y >= 100 && y < 200);
    }
}
