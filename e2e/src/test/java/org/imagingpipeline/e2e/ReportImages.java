package org.imagingpipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.imagingpipeline.events.EventJson;

/**
 * What a clinician's viewer does with a report in the EHR: follows only the URLs the FHIR resources carry (the SEG
 * Media's WADO-RS URL, the ImagingStudy's Endpoint) to the images, with a viewer token. Collects problems instead of
 * throwing, so that a scenario can report them with its others.
 */
final class ReportImages {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    static final String SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4";

    private ReportImages() {
    }

    /**
     * From the DiagnosticReport {@code reportId} in the stand-in EHR: retrieves its SEG by the Media's URL (WADO-RS,
     * multipart/related; type="application/dicom"), checks it is one Segmentation Storage instance that dciodvfy finds
     * no error in, that the same URL without a token is refused, that the SR (TID 1500 measurement report) the ImagingStudy
     * lists comes from the study's Endpoint by WADO-RS and is dciodvfy-clean too, and that QIDO-RS there lists the source,
     * SEG and SR series. Returns the problems found (empty when all is well).
     */
    static List<String> check(PipelineRun run, String reportId, Path work) throws Exception {
        List<String> problems = new ArrayList<>();
        String fhir = "http://127.0.0.1:" + run.port("EHR_PORT") + "/fhir/";
        JsonNode report = getJson(fhir + "DiagnosticReport/" + reportId, null);
        String mediaRef = report.path("media").path(0).path("link").path("reference").asText("");
        String studyRef = report.path("imagingStudy").path(0).path("reference").asText("");
        if (mediaRef.isEmpty() || studyRef.isEmpty()) {
            problems.add("report " + reportId + " names no Media or no ImagingStudy: " + report);
            return problems;
        }
        String segUrl = getJson(fhir + mediaRef, null).path("content").path("url").asText("");
        if (!segUrl.startsWith("http://") && !segUrl.startsWith("https://")) {
            problems.add("the SEG Media's URL is not a DICOMweb URL: '" + segUrl + "'");
            return problems;
        }
        String token = run.run(2, "token", "viewer").lastLine();

        HttpResponse<byte[]> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create(segUrl)).timeout(Duration.ofSeconds(30))
                .header("Accept", "multipart/related; type=\"application/dicom\"").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (anonymous.statusCode() != 401) problems.add("WADO-RS without a token answered " + anonymous.statusCode() + ", not 401");

        HttpResponse<byte[]> seg = HTTP.send(HttpRequest.newBuilder(URI.create(segUrl)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token)
                .header("Accept", "multipart/related; type=\"application/dicom\"").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        String contentType = seg.headers().firstValue("Content-Type").orElse("");
        if (seg.statusCode() != 200 || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/related")) {
            problems.add("WADO-RS " + segUrl + " answered " + seg.statusCode() + " " + contentType);
            return problems;
        }
        List<byte[]> parts = parts(seg.body(), boundary(contentType));
        if (parts.size() != 1) {
            problems.add("WADO-RS of the SEG instance gave " + parts.size() + " parts, not 1");
            return problems;
        }
        Path file = work.resolve("seg-" + reportId + ".dcm");
        Files.write(file, parts.get(0));
        String dump = exec(List.of("dcmdump", "-Un", "+P", "SOPClassUID", "+P", "SOPInstanceUID", file.toString()));
        if (!dump.contains(SEG_SOP_CLASS)) problems.add("the retrieved instance is not a Segmentation:\n" + dump);
        if (!segUrl.endsWith("/" + dump.replaceAll("(?s).*\\(0008,0018\\) UI \\[([0-9.]+)\\].*", "$1"))) {
            problems.add("the retrieved SEG's SOP Instance UID is not the one its URL names: " + segUrl + "\n" + dump);
        }
        String verify = exec(List.of("dciodvfy", file.toString()));
        List<String> errors = verify.lines().filter(l -> l.startsWith("Error")).toList();
        if (!errors.isEmpty()) problems.add("dciodvfy finds errors in the SEG retrieved by WADO-RS:\n" + String.join("\n", errors));

        JsonNode study = getJson(fhir + studyRef, null);
        String endpointRef = study.path("endpoint").path(0).path("reference").asText("");
        if (endpointRef.isEmpty()) {
            problems.add("the ImagingStudy has no Endpoint");
            return problems;
        }
        String base = getJson(fhir + endpointRef, null).path("address").asText("");
        String studyUid = null;
        for (JsonNode id : study.path("identifier")) {
            if ("urn:dicom:uid".equals(id.path("system").asText())) studyUid = id.path("value").asText().replaceFirst("^urn:oid:", "");
        }
        // The measurement report (DICOM SR, TID 1500) the ImagingStudy lists: retrieved at the Endpoint, dciodvfy-clean.
        int reports = 0;
        for (JsonNode s : study.path("series")) {
            if (!"SR".equals(s.path("modality").path("code").asText())) continue;
            String srUid = s.path("instance").path(0).path("uid").asText();
            String srUrl = base + "/studies/" + studyUid + "/series/" + s.path("uid").asText() + "/instances/" + srUid;
            HttpResponse<byte[]> sr = HTTP.send(HttpRequest.newBuilder(URI.create(srUrl)).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token)
                    .header("Accept", "multipart/related; type=\"application/dicom\"").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            String srType = sr.headers().firstValue("Content-Type").orElse("");
            List<byte[]> srParts = sr.statusCode() == 200 ? parts(sr.body(), boundary(srType)) : List.of();
            if (srParts.size() != 1) {
                problems.add("WADO-RS " + srUrl + " answered " + sr.statusCode() + " with " + srParts.size() + " parts");
                continue;
            }
            Path srFile = work.resolve("sr-" + reportId + ".dcm");
            Files.write(srFile, srParts.get(0));
            List<String> srErrors = exec(List.of("dciodvfy", srFile.toString())).lines().filter(l -> l.startsWith("Error")).toList();
            if (!srErrors.isEmpty()) problems.add("dciodvfy finds errors in the SR retrieved by WADO-RS:\n" + String.join("\n", srErrors));
            if (!exec(List.of("dcmdump", "-Un", "+P", "SOPClassUID", srFile.toString())).contains("1.2.840.10008.5.1.4.1.1.88.33")) {
                problems.add("the SR retrieved from " + srUrl + " is not a Comprehensive SR");
            }
            reports++;
        }
        if (reports != 1) problems.add("the ImagingStudy lists " + reports + " measurement reports (SR), not 1");
        JsonNode series = getJson(base + "/studies/" + studyUid + "/series", token);
        List<String> found = new ArrayList<>();
        for (JsonNode s : series) found.add(s.path("0020000E").path("Value").path(0).asText());
        for (JsonNode s : study.path("series")) {
            if (!found.contains(s.path("uid").asText())) {
                problems.add("QIDO-RS at the study's Endpoint " + base + " does not list series " + s.path("uid").asText() + ": " + found);
            }
        }
        return problems;
    }

    private static JsonNode getJson(String url, String token) throws Exception {
        HttpRequest.Builder rq = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET()
                .header("Accept", token == null ? "application/fhir+json" : "application/dicom+json");
        if (token != null) rq.header("Authorization", "Bearer " + token);
        HttpResponse<String> r = HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new AssertionError("GET " + url + " answered " + r.statusCode() + ": " + r.body());
        return EventJson.mapper().readTree(r.body());
    }

    /** The boundary parameter of a multipart Content-Type (quoted or not). */
    static String boundary(String contentType) {
        for (String p : contentType.split(";")) {
            String t = p.strip();
            if (t.toLowerCase(Locale.ROOT).startsWith("boundary=")) return t.substring("boundary=".length()).replace("\"", "");
        }
        throw new AssertionError("no boundary in " + contentType);
    }

    /** The bodies of a multipart/related message (RFC 2046), headers removed. */
    static List<byte[]> parts(byte[] body, String boundary) {
        byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII);
        byte[] padded = new byte[body.length + 2];
        padded[0] = '\r';
        padded[1] = '\n';
        System.arraycopy(body, 0, padded, 2, body.length);
        List<byte[]> out = new ArrayList<>();
        int at = indexOf(padded, delimiter, 0);
        while (at >= 0) {
            int lineEnd = indexOf(padded, "\r\n".getBytes(StandardCharsets.US_ASCII), at + delimiter.length);
            if (lineEnd < 0 || padded[at + delimiter.length] == '-') break; // the close delimiter "--boundary--"
            int headersEnd = indexOf(padded, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), lineEnd);
            int next = indexOf(padded, delimiter, headersEnd + 4);
            if (headersEnd < 0 || next < 0) break;
            ByteArrayOutputStream part = new ByteArrayOutputStream();
            part.write(padded, headersEnd + 4, next - headersEnd - 4);
            out.add(part.toByteArray());
            at = next;
        }
        return out;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = Math.max(0, from); i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) if (data[i + j] != pattern[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** Runs a local program (dcmtk, dicom3tools; ./pipeline test installs both) and returns stdout and stderr together. */
    private static String exec(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish");
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
