package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.layerswarm.handoff.RoundRejectedException.Reason;
import io.layerswarm.handoff.pb.HandoffProtos.Entry;
import io.layerswarm.handoff.pb.HandoffProtos.Record;
import io.layerswarm.transfer.Frames;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writable-layer rounds between two real directory trees. */
class HandoffRoundsTest {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    @TempDir
    Path tmp;
    Path src;
    Path target;
    RoundReceiver receiver;
    Manifest sent;
    long round;
    int instance;

    /** A fresh source tree and receiver (tests with several cases call it again). */
    @BeforeEach
    void setUp() throws IOException {
        instance++;
        src = Files.createDirectories(tmp.resolve("src" + instance));
        target = tmp.resolve("target" + instance);
        receiver = RoundReceiver.open(target, ContentSource.none(), RoundReceiver.Limits.defaults());
        sent = Manifest.empty();
    }

    /** One round source -> target through a byte stream; returns the sender's stats. */
    private RoundStats round() throws IOException {
        Manifest now = TreeScanner.scan(src);
        RoundPlan plan = RoundPlanner.plan(++round, sent, now, receiver.have());
        assertEquals(now, sent.apply(plan), "plan applied to the previous manifest gives the scan");
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        RoundStats stats = new RoundWriter().write(plan, src, wire);
        assertEquals(wire.size(), stats.wireBytes());
        RoundStats got = receiver.receive(new ByteArrayInputStream(wire.toByteArray()));
        assertEquals(stats.contentBytes(), got.contentBytes());
        assertEquals(stats.inlineFiles(), got.inlineFiles());
        sent = now;
        assertSameTree(src, receiver.current());
        return stats;
    }

    private byte[] encodeRound() throws IOException {
        Manifest now = TreeScanner.scan(src);
        RoundPlan plan = RoundPlanner.plan(++round, sent, now, receiver.have());
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        new RoundWriter().write(plan, src, wire);
        return wire.toByteArray();
    }

    /** Compares two trees entry by entry (type, mode, owner, mtime, size, digest, links, xattrs) and byte by byte. */
    private static void assertSameTree(Path expected, Path actual) throws IOException {
        Manifest e = TreeScanner.scan(expected);
        Manifest a = TreeScanner.scan(actual);
        assertEquals(e.entries().keySet(), a.entries().keySet());
        for (TreeEntry x : e.entries().values()) {
            assertEquals(x, a.entries().get(x.path()), x.path());
            if (x.type() == EntryType.FILE) {
                assertArrayEquals(Files.readAllBytes(expected.resolve(x.path())),
                        Files.readAllBytes(actual.resolve(x.path())), x.path());
            }
        }
    }

    private Path write(String rel, byte[] content) throws IOException {
        Path p = src.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.write(p, content);
        return p;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private Set<String> targetGenerations() throws IOException {
        try (var s = Files.list(target)) {
            return Set.copyOf(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void laterRoundsSendOnlyWhatChanged() throws IOException {
        write("a.txt", random(10_000, 1));
        write("data/b.bin", random(100_000, 2));
        write("data/c.log", "first\n".getBytes(StandardCharsets.UTF_8));
        RoundStats r1 = round();
        assertEquals(3, r1.inlineFiles());
        assertEquals(110_006, r1.contentBytes());

        Files.writeString(src.resolve("data/c.log"), "first\nsecond\n");
        write("data/new/d.bin", random(5_000, 3));
        Files.delete(src.resolve("a.txt"));
        RoundStats r2 = round();
        assertEquals(2, r2.inlineFiles());
        assertEquals(13 + 5_000, r2.contentBytes());
        assertEquals(1, r2.deletions());
        assertFalse(Files.exists(receiver.current().resolve("a.txt")));

        RoundStats r3 = round();
        assertEquals(0, r3.entries());
        assertEquals(0, r3.contentBytes());

        // A whole directory deleted goes as one whiteout; a file replaced by a directory works.
        Files.delete(src.resolve("data/new/d.bin"));
        Files.delete(src.resolve("data/new"));
        Files.delete(src.resolve("data/c.log"));
        write("data/c.log/inner", random(10, 4));
        RoundStats r4 = round();
        assertEquals(1, r4.deletions());
        assertEquals(10, r4.contentBytes());
        assertEquals(Set.of("current", "gen-4"), targetGenerations());
    }

    @Test
    void modesOwnersLinksXattrsAndTimesArePreserved() throws IOException {
        Path f = write("bin/tool", random(4_000, 5));
        Files.setAttribute(f, "unix:uid", 1234, NOFOLLOW);
        Files.setAttribute(f, "unix:gid", 5678, NOFOLLOW);
        Files.setAttribute(f, "unix:mode", 04751, NOFOLLOW); // after chown, which clears setuid
        Files.setLastModifiedTime(f, FileTime.from(1_600_000_000_123_456_789L, TimeUnit.NANOSECONDS));
        UserDefinedFileAttributeView x = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
        x.write("origin", ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0xff}));
        Files.createLink(src.resolve("bin/tool-alias"), f);
        Files.createLink(src.resolve("a-first-name"), f);
        Files.createSymbolicLink(src.resolve("bin/rel"), Path.of("tool"));
        Files.createSymbolicLink(src.resolve("abs"), Path.of("/etc/passwd"));
        Files.setAttribute(src.resolve("abs"), "unix:uid", 42, NOFOLLOW);
        Path d = Files.createDirectories(src.resolve("private"));
        write("private/secret", random(10, 6));
        Files.setAttribute(d, "unix:mode", 0700, NOFOLLOW);
        Files.getFileAttributeView(d, UserDefinedFileAttributeView.class).write("tag", ByteBuffer.wrap(new byte[] {7}));
        Files.setLastModifiedTime(d, FileTime.from(1_500_000_000L, TimeUnit.SECONDS));

        RoundStats r1 = round(); // assertSameTree checks every attribute of every entry
        assertEquals(2, r1.inlineFiles(), "the three names of the tool travel once");
        Path cur = receiver.current();
        assertTrue(Files.isSameFile(cur.resolve("bin/tool"), cur.resolve("a-first-name")));
        assertTrue(Files.isSameFile(cur.resolve("bin/tool"), cur.resolve("bin/tool-alias")));
        assertEquals(Path.of("/etc/passwd"), Files.readSymbolicLink(cur.resolve("abs")));
        assertEquals(04751, (int) Files.getAttribute(cur.resolve("bin/tool"), "unix:mode") & 07777);
        assertEquals("0001" + "02ff", TreeScanner.xattrs(cur.resolve("bin/tool")).get("user.origin"));

        // Changing the tool's content re-sends it once and keeps its other names on the new inode.
        Files.write(f, random(4_000, 7));
        RoundStats r2 = round();
        assertEquals(1, r2.inlineFiles());
        cur = receiver.current();
        assertTrue(Files.isSameFile(cur.resolve("bin/tool"), cur.resolve("bin/tool-alias")));
        // Metadata-only change: no content on the wire.
        Files.setAttribute(src.resolve("private/secret"), "unix:mode", 0600, NOFOLLOW);
        x.delete("origin");
        RoundStats r3 = round();
        assertEquals(0, r3.contentBytes());
        assertTrue(r3.referencedFiles() >= 2);
    }

    @Test
    void installCopiesTheCommittedTreeOverAnExistingRootWithoutSharingInodes() throws IOException {
        Path f = write("state/db", random(20_000, 11));
        Files.setAttribute(f, "unix:mode", 0640, NOFOLLOW);
        Files.createLink(src.resolve("state/db-alias"), f);
        Files.createSymbolicLink(src.resolve("state/link"), Path.of("db"));
        write("etc/conf", "new\n".getBytes(StandardCharsets.UTF_8));
        round();
        // the new container's layer (a copied root, as with containerd's native snapshotter)
        Path dest = Files.createDirectories(tmp.resolve("container-root"));
        Files.createDirectories(dest.resolve("etc"));
        Files.writeString(dest.resolve("etc/conf"), "image\n");
        Files.writeString(dest.resolve("etc/other"), "kept\n");
        Files.createDirectories(dest.resolve("state/link")); // a directory where a symlink goes
        receiver.installInto(dest);
        Manifest want = TreeScanner.scan(src);
        Manifest got = TreeScanner.scan(dest);
        for (TreeEntry e : want.entries().values()) {
            assertEquals(e, got.entries().get(e.path()), e.path());
        }
        assertEquals("kept\n", Files.readString(dest.resolve("etc/other")), "entries not in the tree stay");
        assertTrue(Files.isSameFile(dest.resolve("state/db"), dest.resolve("state/db-alias")));
        assertFalse(Files.isSameFile(dest.resolve("state/db"), receiver.current().resolve("state/db")),
                "the container writes to its own copy");
    }

    @Test
    void installAfterEachRoundCopiesOnlyWhatChangedSinceTheLastInstall() throws IOException {
        write("a/keep", random(30_000, 21));
        write("a/change", random(5_000, 22));
        write("d/x/y", random(100, 23));
        write("f", random(100, 24));
        Files.createSymbolicLink(src.resolve("a/link"), Path.of("keep"));
        round();
        Path dest = Files.createDirectories(tmp.resolve("upper"));
        receiver.installInto(dest);
        assertSameTree(src, dest);
        Object keepInode = Files.readAttributes(dest.resolve("a/keep"), "unix:ino", NOFOLLOW).get("ino");

        Files.write(src.resolve("a/change"), random(5_000, 25));
        io.layerswarm.cache.layer.RootGuard.deleteTree(src.resolve("d"));
        write("d", random(10, 26)); // a directory replaced by a file
        Files.delete(src.resolve("f"));
        write("f/inside", random(10, 27)); // a file replaced by a directory
        Files.createLink(src.resolve("a/keep-alias"), src.resolve("a/keep"));
        Files.delete(src.resolve("a/link"));
        round();
        receiver.installInto(dest);
        assertSameTree(src, dest);
        assertEquals(keepInode, Files.readAttributes(dest.resolve("a/keep"), "unix:ino", NOFOLLOW).get("ino"),
                "an unchanged file is not copied again");
        assertTrue(Files.isSameFile(dest.resolve("a/keep"), dest.resolve("a/keep-alias")));

        // another directory gets everything again
        Path other = Files.createDirectories(tmp.resolve("other"));
        receiver.installInto(other);
        assertSameTree(src, other);
    }

    @Test
    void overlayWhiteoutsAreReproducedInTheTreeAndTheContainerLayer() throws IOException {
        // overlay whiteouts are 0/0 character devices: making them needs CAP_MKNOD (root here and in CI)
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        Files.createDirectories(src.resolve("etc"));
        Whiteouts.make(src.resolve("etc/deleted-from-image"), 0, 0, 0, 1_700_000_000_123_456_789L);
        write("usr/share/was-a-directory", "flat\n".getBytes(StandardCharsets.UTF_8));
        write("kept", random(100, 41));
        Manifest scanned = TreeScanner.scan(src);
        assertEquals(EntryType.WHITEOUT, scanned.entries().get("etc/deleted-from-image").type());
        round();
        Path dest = Files.createDirectories(tmp.resolve("upper"));
        receiver.installInto(dest);
        assertSameTree(src, dest);
        assertEquals(0L, Files.getAttribute(dest.resolve("etc/deleted-from-image"), "unix:rdev", NOFOLLOW));

        // the container recreates the deleted file, deletes another: the whiteouts follow
        Files.delete(src.resolve("etc/deleted-from-image"));
        write("etc/deleted-from-image", "back\n".getBytes(StandardCharsets.UTF_8));
        Files.delete(src.resolve("kept"));
        Whiteouts.make(src.resolve("kept"), 0640, 1000, 1000, 1_700_000_001_000_000_000L);
        round();
        receiver.installInto(dest);
        assertSameTree(src, dest);
        assertEquals(EntryType.WHITEOUT, TreeScanner.scan(dest).entries().get("kept").type());
    }

    @Test
    void overlayOpaqueDirectoriesAreReproducedInTheTreeAndTheContainerLayer() throws IOException {
        // trusted.* attributes need CAP_SYS_ADMIN (root here and in CI)
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        // an image directory the container replaced (rm -rf d && mkdir d), one with a name to escape, a plain one
        write("usr/share/replaced/new", "fresh\n".getBytes(StandardCharsets.UTF_8));
        write("odd \\ name\n/x", "x".getBytes(StandardCharsets.UTF_8));
        write("plain/y", "y".getBytes(StandardCharsets.UTF_8));
        OverlayOpaque.mark(src, List.of("usr/share/replaced", "odd \\ name\n"), true);
        Manifest scanned = TreeScanner.scan(src);
        assertEquals(Set.of("usr/share/replaced", "odd \\ name\n"), scanned.entries().values().stream()
                .filter(TreeEntry::opaque).map(TreeEntry::path).collect(java.util.stream.Collectors.toSet()));
        round(); // the receiver's tree compares equal, opaque flags included
        Path dest = Files.createDirectories(tmp.resolve("upper"));
        receiver.installInto(dest);
        assertSameTree(src, dest);
        assertEquals(Set.of("usr/share/replaced", "odd \\ name\n"), OverlayOpaque.find(dest));

        // one stops being opaque, another becomes opaque: the next install follows, directories kept
        OverlayOpaque.mark(src, List.of("usr/share/replaced"), false);
        OverlayOpaque.mark(src, List.of("plain"), true);
        round();
        receiver.installInto(dest);
        assertSameTree(src, dest);
        assertEquals(Set.of("plain", "odd \\ name\n"), OverlayOpaque.find(dest));
        // a reopened receiver reads the flags back from its committed tree
        assertEquals(receiver.manifest(), RoundReceiver.open(target, ContentSource.none(),
                RoundReceiver.Limits.defaults()).manifest());
    }

    @Test
    void opaqueOnAnythingButADirectoryIsRefused() throws IOException {
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> e.toBuilder().setOpaque(true).build()), Reason.CORRUPT);
    }

    @Test
    void getfattrOutputIsParsedAndGarbageIsRefused() throws IOException {
        assertEquals(Set.of("a", "we ird", "nl\nx", "back\\sl", "\u00fc/d"), OverlayOpaque.parse(
                "# file: ./a\ntrusted.overlay.opaque=0x79\n\n# file: ./we ird\ntrusted.overlay.opaque=0x79\n\n"
                + "# file: ./nl\\012x\ntrusted.overlay.opaque=0x79\n\n# file: ./back\\134sl\n"
                + "trusted.overlay.opaque=0x79\n\n# file: ./\u00c3\u00bc/d\ntrusted.overlay.opaque=0x79\n\n"
                + "# file: ./x-only\ntrusted.overlay.opaque=0x78\n\n# file: .\ntrusted.overlay.opaque=0x79\n\n"));
        assertEquals(Set.of(), OverlayOpaque.parse(""));
        for (String bad : List.of("garbage\n", "trusted.overlay.opaque=0x79\n", "# file: /abs\ntrusted.overlay.opaque=0x79\n",
                "# file: ./a\\9\ntrusted.overlay.opaque=0x79\n", "# file: ./a\\\ntrusted.overlay.opaque=0x79\n",
                "# file: ./a\nuser.other=0x01\n", "# file: ./\ntrusted.overlay.opaque=0x79\n")) {
            assertThrows(IOException.class, () -> OverlayOpaque.parse(bad), bad);
        }
    }

    @Test
    void largeLayerAcrossManyDirectoriesMovesInRoundsAndInstallsIncrementally() throws IOException {
        int dirs = 256;
        int perDir = 4;
        int size = 64 * 1024; // 256 x 4 x 64 KiB = 64 MiB
        Random r = new Random(31);
        byte[] b = new byte[size];
        for (int d = 0; d < dirs; d++) {
            for (int f = 0; f < perDir; f++) {
                r.nextBytes(b);
                write("data/" + (d % 16) + "/" + d + "/f" + f, b);
            }
        }
        RoundStats first = round();
        assertEquals((long) dirs * perDir * size, first.contentBytes());
        Path dest = Files.createDirectories(tmp.resolve("upper"));
        receiver.installInto(dest);

        for (int d = 0; d < dirs; d += 64) {
            write("data/" + (d % 16) + "/" + d + "/f0", random(size, d));
        }
        io.layerswarm.cache.layer.RootGuard.deleteTree(src.resolve("data/3"));
        RoundStats second = round();
        assertEquals(4L * size, second.contentBytes(), "only the 4 rewritten files travel");
        assertTrue(second.wireBytes() < 4L * size + 64 * 1024, "plus little metadata: " + second.wireBytes());
        receiver.installInto(dest);
        assertSameTree(src, dest);
    }

    @Test
    void rescanTakesDigestsOnlyOfFilesUntouchedSinceWellBeforeTheEarlierScan() throws IOException {
        Path old = write("old", random(1_000, 51));
        TreeScanner.Scan first = TreeScanner.scan(src, TreeScanner.Stamps.none());
        assertEquals(TreeScanner.sha256(old), first.manifest().entries().get("old").sha256());
        // the stamps' digests faked, to see when they are taken
        Map<String, TreeScanner.Stamp> faked = new java.util.HashMap<>();
        first.stamps().files().forEach((p, st) -> faked.put(p, new TreeScanner.Stamp(st.inode(), st.size(),
                st.mtimeNanos(), st.ctimeNanos(), "f".repeat(64))));
        long start = first.stamps().scanStartNanos();
        long wellAfter = start + 2 * TreeScanner.RACY_MARGIN_NANOS; // as if the earlier scan ran 2 s later
        assertEquals("f".repeat(64), TreeScanner.scan(src, new TreeScanner.Stamps(wellAfter, faked)).manifest()
                .entries().get("old").sha256(), "untouched since well before: taken from the stamp");
        assertEquals(TreeScanner.sha256(old), TreeScanner.scan(src, new TreeScanner.Stamps(start, faked)).manifest()
                .entries().get("old").sha256(), "changed just before the earlier scan: read again");
        FileTime mtime = Files.getLastModifiedTime(old);
        Files.write(old, random(1_000, 52));
        Files.setLastModifiedTime(old, mtime); // same size and mtime: only ctime tells
        assertEquals(TreeScanner.sha256(old), TreeScanner.scan(src, new TreeScanner.Stamps(wellAfter, faked))
                .manifest().entries().get("old").sha256(), "rewritten with its mtime put back: read again");
    }

    @Test
    void hotFilesAreHeldBackAsLastSentWithTheirHardLinks() throws IOException {
        write("log", "one\n".getBytes(StandardCharsets.UTF_8));
        write("calm", "calm\n".getBytes(StandardCharsets.UTF_8));
        round();
        Files.writeString(src.resolve("log"), "one\ntwo\n");
        write("new-hot", random(10, 12));
        Files.createLink(src.resolve("new-hot-alias"), src.resolve("new-hot"));
        write("new-calm", random(10, 13));
        Manifest held = SourceHandoff.holdBack(TreeScanner.scan(src), sent, Set.of("log", "new-hot"));
        assertEquals(sent.entries().get("log"), held.entries().get("log"), "log kept as last sent");
        assertFalse(held.entries().containsKey("new-hot"), "never sent: left out");
        assertFalse(held.entries().containsKey("new-hot-alias"), "its hard link too");
        assertTrue(held.entries().containsKey("new-calm"));
        RoundPlan plan = RoundPlanner.plan(++round, sent, held, receiver.have());
        assertEquals(1, plan.changes().size(), "only new-calm travels: " + plan);
    }

    @Test
    void contentTheTargetHoldsIsSentAsReference() throws IOException {
        byte[] base = random(50_000, 8);
        Path layerFile = Files.write(Files.createDirectories(tmp.resolve("imagelayer")).resolve("lib.so"), base);
        String baseDigest = TreeScanner.sha256(layerFile);
        ContentSource layers = new ContentSource() {
            @Override
            public Set<String> digests() {
                return Set.of(baseDigest);
            }

            @Override
            public Optional<Path> locate(String sha256) {
                return sha256.equals(baseDigest) ? Optional.of(layerFile) : Optional.empty();
            }
        };
        receiver = RoundReceiver.open(tmp.resolve("target2"), layers, RoundReceiver.Limits.defaults());
        write("copy1.so", base);
        write("sub/copy2.so", base);
        write("dup-a", random(3_000, 9));
        write("dup-b", random(3_000, 9));
        RoundStats r = round();
        assertEquals(1, r.inlineFiles(), "only one of the duplicates; the layer's content is never sent");
        assertEquals(3_000, r.contentBytes());
        assertEquals(3, r.referencedFiles());
        assertTrue(r.wireBytes() < 50_000, "wire " + r.wireBytes());
    }

    @Test
    void roundIsAppliedWhileStreaming() throws Exception {
        write("big.bin", random(3 * 1024 * 1024, 10));
        Manifest now = TreeScanner.scan(src);
        RoundPlan plan = RoundPlanner.plan(1, sent, now, receiver.have());
        PipedInputStream in = new PipedInputStream(64 * 1024);
        PipedOutputStream out = new PipedOutputStream(in);
        CompletableFuture<RoundStats> sender = CompletableFuture.supplyAsync(() -> {
            try (out) {
                return new RoundWriter().write(plan, src, out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        RoundStats got = receiver.receive(in);
        assertEquals(3 * 1024 * 1024, got.contentBytes());
        assertEquals(got.contentBytes(), sender.get(30, TimeUnit.SECONDS).contentBytes());
        assertSameTree(src, receiver.current());
    }

    // ---- refused streams leave the committed tree untouched --------------------------------------

    /** Round 1 committed, then {@code mutate} applied to round 2's records must be refused with {@code reason}. */
    private RoundRejectedException refuseRound2(UnaryOperator<List<Record>> mutate, Reason reason) throws IOException {
        return refuseRound2(mutate, Set.of(reason));
    }

    private RoundRejectedException refuseRound2(UnaryOperator<List<Record>> mutate, Set<Reason> reasons)
            throws IOException {
        write("keep.txt", random(1_000, 11));
        round();
        Manifest before = receiver.manifest();
        Path beforeDir = receiver.current();
        write("keep.txt", random(1_000, 12));
        write("z-added.bin", random(20_000, 13));
        byte[] stream = encode(mutate.apply(decode(encodeRound())));
        RoundRejectedException e = assertThrows(RoundRejectedException.class,
                () -> receiver.receive(new ByteArrayInputStream(stream)));
        assertTrue(reasons.contains(e.reason()), e.getMessage());
        assertEquals(before, receiver.manifest());
        assertEquals(beforeDir, receiver.current());
        assertEquals(before, TreeScanner.scan(target.resolve("current").toRealPath()), "nothing half-applied");
        assertEquals(Set.of("current", beforeDir.getFileName().toString()), targetGenerations());
        return e;
    }

    private static List<Record> decode(byte[] stream) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(stream);
        List<Record> out = new ArrayList<>();
        while (in.available() > 0) {
            out.add(Frames.read(in, Record.parser(), Frames.MAX_FRAME));
        }
        return out;
    }

    private static byte[] encode(List<Record> records) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Record r : records) {
            Frames.write(out, r);
        }
        return out.toByteArray();
    }

    private static List<Record> mapEntry(List<Record> rs, String path, UnaryOperator<Entry> f) {
        List<Record> out = new ArrayList<>();
        for (Record r : rs) {
            out.add(r.hasEntry() && r.getEntry().getPath().equals(path) ? r.toBuilder().setEntry(f.apply(r.getEntry())).build() : r);
        }
        return out;
    }

    @Test
    void wrongAnnouncedDigestIsRefused() throws IOException {
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> e.toBuilder().setSha256("0".repeat(64)).build()),
                Reason.DIGEST_MISMATCH);
    }

    @Test
    void corruptedContentIsRefused() throws IOException {
        // zstd's own checks may catch the flip (CORRUPT) before the digest does (DIGEST_MISMATCH): both refuse.
        refuseRound2(rs -> {
            List<Record> out = new ArrayList<>(rs);
            for (int i = 0; i < out.size(); i++) {
                Record r = out.get(i);
                if (r.hasChunk() && r.getChunk().getData().size() > 100) {
                    byte[] d = r.getChunk().getData().toByteArray();
                    d[d.length / 2] ^= 0x5a;
                    out.set(i, r.toBuilder().setChunk(r.getChunk().toBuilder().setData(ByteString.copyFrom(d))).build());
                    break;
                }
            }
            return out;
        }, Set.of(Reason.CORRUPT, Reason.DIGEST_MISMATCH));
    }

    @Test
    void pathEscapesAreRefused() throws IOException {
        for (String bad : List.of("../evil", "/abs/evil", "ok/../../evil")) {
            setUp();
            round = 0;
            refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> e.toBuilder().setPath(bad).build()), Reason.UNSAFE);
        }
        assertFalse(Files.exists(tmp.resolve("evil")));
        assertFalse(Files.exists(target.resolve("evil")));
        assertFalse(Files.exists(Path.of("/abs/evil")));
    }

    @Test
    void whiteoutsOutsideTheRootOrThroughASymlinkAreRefused() throws IOException {
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> Entry.newBuilder().setKind(Entry.Kind.LOWER_WHITEOUT)
                .setPath("../planted").build()), Reason.UNSAFE);
        setUp();
        round = 0;
        Path outside = Files.createDirectories(tmp.resolve("outside-whiteout"));
        Files.createSymbolicLink(src.resolve("escape"), outside);
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> Entry.newBuilder().setKind(Entry.Kind.LOWER_WHITEOUT)
                .setPath("escape/planted").build()), Reason.UNSAFE);
        try (var s = Files.list(outside)) {
            assertEquals(0, s.count(), "no device node made outside the root");
        }
    }

    @Test
    void symlinkClimbingOutOrWrittenThroughIsRefused() throws IOException {
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> Entry.newBuilder().setKind(Entry.Kind.SYMLINK)
                .setPath("z-added.bin").setLinkTarget("../../../etc").setMode(0777).build()), Reason.UNSAFE);
        // A committed symlink to the outside, then a file "through" it.
        setUp();
        round = 0;
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(src.resolve("escape"), outside);
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> e.toBuilder().setPath("escape/planted").build()),
                Reason.UNSAFE);
        try (var s = Files.list(outside)) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void moreContentThanAnnouncedIsRefused() throws IOException {
        refuseRound2(rs -> {
            List<Record> out = new ArrayList<>(rs);
            Record h = out.get(0);
            out.set(0, h.toBuilder().setHeader(h.getHeader().toBuilder().setContentBytes(1_000)).build());
            return out;
        }, Reason.OVERSIZE);
        setUp();
        round = 0;
        // The file entry claims fewer bytes than its content decompresses to.
        refuseRound2(rs -> mapEntry(rs, "z-added.bin", e -> e.toBuilder().setSize(100).build()), Reason.OVERSIZE);
        setUp();
        round = 0;
        receiver = RoundReceiver.open(tmp.resolve("small"), ContentSource.none(), new RoundReceiver.Limits(5_000, 100));
        target = tmp.resolve("small");
        refuseRound2(rs -> rs, Reason.OVERSIZE);
    }

    @Test
    void referenceToContentNotHeldIsRefused() throws IOException {
        refuseRound2(rs -> {
            List<Record> out = new ArrayList<>();
            long dropped = 0;
            for (Record r : rs) {
                if (r.hasChunk()) {
                    continue;
                }
                if (r.hasEntry() && r.getEntry().getInlineContent()) {
                    dropped += r.getEntry().getSize();
                    r = r.toBuilder().setEntry(r.getEntry().toBuilder().setInlineContent(false)).build();
                }
                out.add(r);
            }
            long d = dropped;
            Record h = out.get(0);
            out.set(0, h.toBuilder().setHeader(h.getHeader().toBuilder().setContentBytes(0)).build());
            Record end = out.get(out.size() - 1);
            out.set(out.size() - 1, end.toBuilder().setEnd(end.getEnd().toBuilder().setContentBytes(0)).build());
            assertTrue(d > 0);
            return out;
        }, Reason.MISSING_CONTENT);
    }

    @Test
    void garbageAndTruncatedStreamsAreRefused() throws IOException {
        write("f", random(100_000, 14));
        write("g/h", random(1_000, 15));
        byte[] valid = encodeRound();
        round = 0;
        Random rnd = new Random(16);
        for (int i = 0; i < 200; i++) {
            byte[] junk = random(rnd.nextInt(2_000), i);
            assertThrows(RoundRejectedException.class, () -> receiver.receive(new ByteArrayInputStream(junk)));
        }
        for (int cut = 0; cut < valid.length; cut += Math.max(1, valid.length / 97)) {
            byte[] part = java.util.Arrays.copyOf(valid, cut);
            assertThrows(RoundRejectedException.class, () -> receiver.receive(new ByteArrayInputStream(part)),
                    "cut at " + cut);
        }
        for (int i = 0; i < 100; i++) {
            byte[] flipped = valid.clone();
            flipped[rnd.nextInt(flipped.length)] ^= (byte) (1 + rnd.nextInt(255));
            try {
                receiver.receive(new ByteArrayInputStream(flipped));
                // A flip in a field the round does not depend on (e.g. an mtime) may still be a valid round.
                receiver = RoundReceiver.open(tmp.resolve("t" + i), ContentSource.none(), RoundReceiver.Limits.defaults());
            } catch (RoundRejectedException expected) {
                // refused: fine
            }
        }
        assertEquals(Manifest.empty(), receiver.manifest());
        assertEquals(0, TreeScanner.scan(receiver.current()).entries().size());
        // And the valid stream still applies afterwards.
        RoundStats ok = receiver.receive(new ByteArrayInputStream(valid));
        assertEquals(101_000, ok.contentBytes());
        assertSameTree(src, receiver.current());
    }
}
