package io.layerswarm.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import io.layerswarm.testing.RegistryFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding code in README.md ("Embedding the node") compiles as shown against the library and
 * deploys a corpus image from a real docker-registry: a valid OCI layout (skopeo reads it) and an
 * unpacked rootfs.
 */
class ReadmeSnippetIT {
    static final Path README = Path.of("../../README.md");
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS_NAME = Pattern.compile("public (?:final )?class (\\w+)");

    @TempDir
    Path tmp;

    /** The first fenced java block of the README section with this heading. */
    static String snippet(String heading) throws Exception {
        String readme = Files.readString(README);
        int start = readme.indexOf("\n## " + heading + "\n");
        assertTrue(start >= 0, "README has a section '" + heading + "'");
        int end = readme.indexOf("\n## ", start + 1);
        Matcher m = JAVA_BLOCK.matcher(readme.substring(start, end < 0 ? readme.length() : end));
        assertTrue(m.find(), "the section has a java block");
        return m.group(1);
    }

    @Test
    void theEmbeddingSnippetCompilesAndDeploysAnImage() throws Exception {
        String source = snippet("Embedding the node");
        Matcher name = CLASS_NAME.matcher(source);
        assertTrue(name.find(), "the snippet is a class");
        Path src = Files.createDirectories(tmp.resolve("src")).resolve(name.group(1) + ".java");
        Files.writeString(src, source);
        Path classes = Files.createDirectories(tmp.resolve("classes"));

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean ok = javac.getTask(null, files, diagnostics, List.of("-classpath", classpath, "-d",
                    classes.toString(), "-Xlint:all", "-Werror"), null, files.getJavaFileObjects(src)).call();
            assertTrue(ok, "README snippet compiles: " + diagnostics.getDiagnostics());
        }

        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.images().get(0);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            corpus.pushTo(registry.baseUri().toString());
            long before = registry.totalBlobBytesServed();
            Path dir = tmp.resolve("edge");
            String out;
            try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                    getClass().getClassLoader())) {
                Method main = loader.loadClass(name.group(1)).getMethod("main", String[].class);
                PrintStream stdout = System.out;
                ByteArrayOutputStream captured = new ByteArrayOutputStream();
                System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
                try {
                    main.invoke(null, (Object) new String[] {registry.baseUri().toString(), image.name(), image.tag(),
                            dir.toString()});
                } finally {
                    System.setOut(stdout);
                }
                out = captured.toString(StandardCharsets.UTF_8);
            }
            System.out.print(out);
            assertTrue(out.contains("deployed " + image.manifestDigest() + " as peer 12D3KooW"), out);
            assertEquals(image.layers().size() + 1, out.lines().filter(l -> l.contains("from the registry")).count(),
                    "one fetch line per blob (config and layers): " + out);
            String inspect = Processes.run(120, "skopeo", "inspect", "oci:" + dir.resolve("layout") + ":" + image.tag());
            assertTrue(inspect.contains(image.manifestDigest()), inspect);
            try (Stream<Path> s = Files.walk(dir.resolve("rootfs"))) {
                assertTrue(s.count() > 20, "an unpacked rootfs");
            }
            assertTrue(Files.isRegularFile(dir.resolve("node/node.key")), "the node's key in its own directory");
            long sent = registry.totalBlobBytesServed() - before;
            long blobs = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
            assertTrue(sent >= blobs && sent <= blobs * 1.05, "the registry sent the image once: " + sent + " / " + blobs);
        }
    }
}
