package org.imagingpipeline.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.imagingpipeline.events.BlobRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBlobStoreTest {
    @TempDir
    Path dir;

    @Test
    void storesUnderTheContentsSha256AndReadsBack() throws Exception {
        LocalBlobStore store = new LocalBlobStore(dir);
        byte[] data = "hello dicom".getBytes(StandardCharsets.US_ASCII);
        BlobRef ref = store.put(data, "application/dicom");
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)), ref.sha256());
        assertEquals(data.length, ref.size());
        assertTrue(Files.exists(Path.of(java.net.URI.create(ref.uri()))));
        assertArrayEquals(data, store.read(ref));
        assertEquals(ref.sha256(), store.find(ref.sha256()).orElseThrow().sha256());
    }

    @Test
    void sameBytesTwiceIsOneBlobAndNoTemporaryFilesRemain() throws Exception {
        LocalBlobStore store = new LocalBlobStore(dir);
        BlobRef a = store.put(new ByteArrayInputStream(new byte[100_000]), "x");
        BlobRef b = store.put(new byte[100_000], "x");
        assertEquals(a.sha256(), b.sha256());
        try (Stream<Path> s = Files.walk(dir.resolve("sha256"))) {
            assertEquals(1, s.filter(Files::isRegularFile).count());
        }
        try (Stream<Path> s = Files.list(dir.resolve("tmp"))) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void oldLeftoversOfACrashedWriteAreRemovedAtStartButAnotherProcesssWriteInProgressIsKept() throws Exception {
        Files.createDirectories(dir.resolve("tmp"));
        Files.write(dir.resolve("tmp/abc.part"), new byte[10]);
        Files.setLastModifiedTime(dir.resolve("tmp/abc.part"), java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(LocalBlobStore.STALE_TEMP_AGE).minusSeconds(60)));
        Files.write(dir.resolve("tmp/live.part"), new byte[10]); // another process sharing the root is writing it now
        new LocalBlobStore(dir);
        assertFalse(Files.exists(dir.resolve("tmp/abc.part")));
        assertTrue(Files.exists(dir.resolve("tmp/live.part")), "a second process opening the store must not break a write in progress");
    }

    @Test
    void missingAndMalformedDigestsAreClearErrors() throws Exception {
        LocalBlobStore store = new LocalBlobStore(dir);
        assertThrows(BlobNotFoundException.class, () -> store.open("0".repeat(64)));
        assertTrue(store.find("0".repeat(64)).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> store.open("../../etc/passwd"));
    }

    @Test
    void aStagedBlobIsHashedWhileWrittenReadableBeforeCommitAndRenamedIntoPlace() throws Exception {
        LocalBlobStore store = new LocalBlobStore(dir, false);
        byte[] data = new byte[300_000];
        new java.util.Random(7).nextBytes(data);
        BlobRef ref;
        try (StagedBlob staged = store.stage()) {
            staged.out().write(data, 0, 1000);
            staged.out().write(data, 1000, data.length - 1000);
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)), staged.finish());
            assertArrayEquals(data, Files.readAllBytes(staged.file()), "the file is complete before commit");
            assertTrue(staged.file().startsWith(dir.resolve("tmp")), "staged beside the blobs: commit is a rename");
            assertTrue(store.find(staged.finish()).isEmpty(), "not a blob before commit");
            ref = staged.commit("application/dicom", false);
        }
        assertEquals(data.length, ref.size());
        assertArrayEquals(data, store.read(ref));
        try (StagedBlob discarded = store.stage()) {
            discarded.out().write(data);
            discarded.finish();
        }
        try (Stream<Path> s = Files.list(dir.resolve("tmp"))) {
            assertEquals(0, s.count(), "a staged blob that is not committed leaves nothing behind");
        }
    }
}
