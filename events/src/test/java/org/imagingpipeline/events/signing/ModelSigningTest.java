package org.imagingpipeline.events.signing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.ModelVersion.Status;
import org.imagingpipeline.events.signing.ModelSigning.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSigningTest {
    static final JsonSerde<ModelVersion> SERDE = JsonSerde.of(ModelVersion.class);
    static final String SHA = "ab".repeat(32);

    static ModelVersion promoted(String sha) {
        ModelVersion.Serving serving = new ModelVersion.Serving("dom-a-adabn-1", "file:///m/" + sha + ".onnx", sha);
        return new ModelVersion(1, ModelVersion.eventIdFor("dom-a", "dom-a-adabn-1", Status.PROMOTED), "dom-a", "dom-a-adabn-1",
                "unet", serving.uri(), sha, Status.PROMOTED, "adabn", "cd".repeat(32), "ef".repeat(32), 3,
                Map.of("source_dice_after", 0.8123456789, "decision", "promoted"), serving, Instant.parse("2026-12-05T22:01:02.123456789Z"));
    }

    /** What a reader gets: the record as JSON on the wire and back. */
    static ModelVersion wire(ModelVersion v) {
        return SERDE.deserialize("t", SERDE.serialize("t", v));
    }

    @Test
    void aSignedRecordVerifiesAfterTheWireAndNothingElseDoes(@TempDir Path dir) throws IOException {
        ModelSigning.Signer retrain = ModelSigning.ensure(dir.resolve("secrets")).signer();
        ModelSigning.Verifier inference = ModelSigning.Verifier.of(List.of(dir.resolve("secrets").resolve(ModelSigning.PUBLIC_KEY_FILE)));
        ModelVersion signed = wire(retrain.sign("dom-a", promoted(SHA)));
        assertEquals(ModelSigning.ALGORITHM, signed.signature().alg());
        assertEquals(retrain.keyId(), signed.signature().keyId());
        assertEquals(Verdict.VALID, inference.verify("dom-a", signed));

        assertEquals(Verdict.UNSIGNED, inference.verify("dom-a", wire(promoted(SHA))), "no signature");
        ModelVersion other = wire(promoted("99".repeat(32)));
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-a", other.withSignature(signed.signature())),
                "another model's sha256 under a copied signature");
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-b", signed), "the same record under another Kafka key");
        ModelVersion.Serving s = signed.serving();
        ModelVersion otherUri = new ModelVersion(1, signed.eventId(), "dom-a", signed.version(), signed.name(), "file:///evil.onnx", SHA,
                Status.PROMOTED, "adabn", signed.parentSha256(), signed.seriesHash(), 3, signed.evidence(),
                new ModelVersion.Serving(s.version(), "file:///evil.onnx", s.sha256()), signed.at(), signed.signature());
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-a", otherUri), "a changed URI");
        ModelVersion rolledBack = new ModelVersion(1, signed.eventId(), "dom-a", signed.version(), signed.name(), signed.uri(), SHA,
                Status.ROLLED_BACK, "adabn", signed.parentSha256(), signed.seriesHash(), 3, signed.evidence(), null, signed.at(),
                signed.signature());
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-a", rolledBack), "a changed status and serving");

        ModelSigning.Signer forger = ModelSigning.generate();
        assertEquals(Verdict.UNKNOWN_KEY, inference.verify("dom-a", wire(forger.sign("dom-a", promoted(SHA)))), "another key");
        ModelVersion.Signature f = forger.sign("dom-a", promoted(SHA)).signature();
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-a",
                signed.withSignature(new ModelVersion.Signature(f.alg(), retrain.keyId(), f.value()))), "another key claiming the right key id");
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-a",
                signed.withSignature(new ModelVersion.Signature("RS256", retrain.keyId(), signed.signature().value()))), "another algorithm");
        assertEquals(Verdict.BAD_SIGNATURE, inference.verify("dom-a",
                signed.withSignature(new ModelVersion.Signature(ModelSigning.ALGORITHM, retrain.keyId(), "not base64!"))));

        ModelVersion moreEvidence = new ModelVersion(1, signed.eventId(), "dom-a", signed.version(), signed.name(), signed.uri(), SHA,
                Status.PROMOTED, "adabn", signed.parentSha256(), signed.seriesHash(), 3, Map.of("decision", "edited"), signed.serving(),
                signed.at(), signed.signature());
        assertEquals(Verdict.VALID, inference.verify("dom-a", moreEvidence), "evidence is not signed (documented)");

        ModelSigning.Verifier rotating = new ModelSigning.Verifier(List.of(forger.publicKey(), retrain.publicKey()));
        assertEquals(Verdict.VALID, rotating.verify("dom-a", signed), "any trusted key (rotation)");
    }

    @Test
    void recordsWithoutASignatureStayReadable() {
        String old = "{\"schemaVersion\":1,\"eventId\":\"d@v#PROMOTED\",\"domainId\":\"d\",\"version\":\"v\",\"sha256\":\"" + SHA
                + "\",\"status\":\"PROMOTED\",\"serving\":{\"version\":\"v\",\"uri\":\"file:///m.onnx\",\"sha256\":\"" + SHA
                + "\"},\"at\":\"2026-11-23T00:00:00Z\"}";
        ModelVersion v = SERDE.deserialize("t", old.getBytes(StandardCharsets.UTF_8));
        assertNull(v.signature());
        assertEquals("v", v.serving().version());
        assertFalse(new String(SERDE.serialize("t", v), StandardCharsets.UTF_8).contains("signature"), "no null field written");
    }

    @Test
    void theKeyIsCreatedOnceOwnerOnlyAndKept(@TempDir Path dir) throws IOException {
        Path secrets = dir.resolve("secrets");
        ModelSigning.Ensured first = ModelSigning.ensure(secrets);
        assertTrue(first.created());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.privateKey())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets)));
        Files.delete(first.publicKey());
        Files.setPosixFilePermissions(first.privateKey(), PosixFilePermissions.fromString("rw-r--r--"));
        ModelSigning.Ensured second = ModelSigning.ensure(secrets);
        assertFalse(second.created());
        assertEquals(first.signer().keyId(), second.signer().keyId(), "never replaced");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(second.privateKey())), "tightened");
        assertEquals(first.signer().keyId(), ModelSigning.keyId(ModelSigning.readPublicKey(second.publicKey())), "public key rewritten");

        Path mixed = dir.resolve("mixed.pem");
        Files.writeString(mixed, Files.readString(first.privateKey()).replaceAll("(?s)-----BEGIN PUBLIC KEY.*", "")
                + ModelSigning.generate().publicKeyPem());
        assertThrows(IOException.class, () -> ModelSigning.load(mixed), "a public key that is not the private key's");
    }
}
