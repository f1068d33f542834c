package org.imagingpipeline.events;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Renders the topic table of docs/topics.md from {@link Topics#ALL}, so the document cannot drift from the code.
 * Run {@code main(path)} to rewrite the generated block; a test fails when the committed file is stale.
 */
public final class TopicDocs {
    public static final String BEGIN = "<!-- BEGIN GENERATED TOPIC TABLE (events/TopicDocs) -->";
    public static final String END = "<!-- END GENERATED TOPIC TABLE -->";

    private TopicDocs() {
    }

    public static String table() {
        StringBuilder sb = new StringBuilder();
        sb.append("| topic | partitions | retention | key | value | producer | consumers |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        for (TopicSpec t : Topics.ALL) {
            sb.append("| `").append(t.name()).append("` | ").append(t.partitions()).append(" | ")
                    .append(t.retentionText()).append(" | ").append(t.key()).append(" | ").append(t.value())
                    .append(" | ").append(t.producer()).append(" | ").append(t.consumers()).append(" |\n");
        }
        return sb.toString();
    }

    /** Replaces the generated block in the given markdown text. */
    public static String render(String markdown) {
        int b = markdown.indexOf(BEGIN);
        int e = markdown.indexOf(END);
        if (b < 0 || e < b) throw new IllegalArgumentException("markers " + BEGIN + " / " + END + " not found");
        return markdown.substring(0, b + BEGIN.length()) + "\n" + table() + markdown.substring(e);
    }

    public static void main(String[] args) throws IOException {
        Path p = Path.of(args.length > 0 ? args[0] : "docs/topics.md");
        Files.writeString(p, render(Files.readString(p)));
    }
}
