package org.imagingpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The ML-ops console in a real browser (Debian's chromium and chromium-driver, headless) against a running stack: sign
 * in, the reference scanner KNOWN and the flagged one with its drift evidence, its adaptation job's page with the gate's
 * evidence, a roll back of its model with a reason and the routing shown changed, sign out. Screenshots go to
 * {@code target/console-screenshots} (test artifacts; docs/console.md shows them).
 */
final class ConsoleBrowser {
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver"));

    private ConsoleBrowser() {
    }

    /** Whether a browser can run here; under CI=true its absence is a failure (set-up installs it), else a skip. */
    static boolean available() {
        boolean here = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!here && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI: chromium and chromium-driver are missing (./pipeline test installs them)");
        }
        return here;
    }

    /**
     * @param console     the console's root URL
     * @param token       a token with the roles mlops and viewer
     * @param knownDomain the reference scanner's domain id (KNOWN)
     * @param scanner     the flagged scanner's domain id, served by a promoted adapted model
     */
    static void walkThrough(String console, String token, String knownDomain, String scanner, Path shots) throws Exception {
        Files.createDirectories(shots);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1600,1100");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        WebDriver driver = new ChromeDriver(service, options);
        try {
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(console + "/");
            wait.until(ExpectedConditions.urlContains("/login"));
            shot(driver, shots, "01-login");
            driver.findElement(By.id("token")).sendKeys(token);
            driver.findElement(By.id("sign-in")).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("scanners")));
            assertTrue(driver.findElement(By.id("who")).getText().contains("mlops"), "signed in with the mlops role");

            WebElement known = row(driver, "data-domain", knownDomain);
            assertTrue(known.getText().contains("KNOWN"), "the reference scanner is KNOWN: " + known.getText());
            WebElement flagged = row(driver, "data-domain", scanner);
            assertTrue(flagged.getText().contains("DRIFT_CONFIRMED"), "the new scanner is flagged: " + flagged.getText());
            assertTrue(flagged.getText().contains("p ="), "with its drift evidence: " + flagged.getText());
            String page = driver.getPageSource();
            assertFalse(page.contains("PatientName") || page.contains("PatientBirthDate"), "no patient attributes on the page");
            shot(driver, shots, "02-overview");

            // the scanner's adaptation job, its gate evidence and log tail
            List<WebElement> jobs = driver.findElements(By.cssSelector("tr[data-job]")).stream()
                    .filter(r -> r.findElements(By.tagName("td")).get(1).getText().equals(scanner)).toList();
            assertFalse(jobs.isEmpty(), "a job for the scanner is listed");
            jobs.get(jobs.size() - 1).findElement(By.tagName("a")).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.id("job-domain")));
            assertEquals(scanner, driver.findElement(By.id("job-domain")).getText());
            assertFalse(driver.findElements(By.cssSelector("#evidence th")).isEmpty(), "the gate's evidence is shown");
            shot(driver, shots, "03-job");

            // roll back the scanner's model: the routing shown changes
            driver.get(console + "/");
            WebElement model = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("tr[data-model-domain='" + scanner + "']")));
            String servingBefore = model.findElements(By.tagName("td")).get(1).getText();
            model.findElement(By.name("reason")).sendKeys("browser test: roll back the adapted model");
            model.findElement(By.name("confirm")).click();
            shot(driver, shots, "04-roll-back-form");
            model.findElement(By.cssSelector("button[type=submit]")).click();
            WebElement message = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("message")));
            assertTrue(message.getText().contains("rolled back"), message.getText());
            // retrain's registry view reads the rollback's records back from Kafka: the page's refresh shows the change
            String servingAfter = new WebDriverWait(driver, Duration.ofSeconds(60)).until(d -> {
                List<WebElement> rows = d.findElements(By.cssSelector("tr[data-model-domain='" + scanner + "']"));
                if (rows.size() != 1) return null;
                String now = rows.get(0).findElements(By.tagName("td")).get(1).getText();
                return now.equals(servingBefore) ? null : now;
            });
            assertNotEquals(servingBefore, servingAfter, "the routing changed");
            shot(driver, shots, "05-rolled-back");
            System.out.println("console browser test: " + scanner + " served by " + servingBefore + " -> " + servingAfter
                    + "; screenshots in " + shots);

            driver.findElement(By.id("sign-out")).click();
            wait.until(ExpectedConditions.urlContains("/login"));
            driver.get(console + "/");
            wait.until(ExpectedConditions.urlContains("/login"));
        } finally {
            driver.quit();
        }
    }

    private static WebElement row(WebDriver driver, String attribute, String value) {
        List<WebElement> rows = driver.findElements(By.cssSelector("tr[" + attribute + "='" + value + "']"));
        assertEquals(1, rows.size(), "one row " + attribute + "=" + value);
        return rows.get(0);
    }

    private static void shot(WebDriver driver, Path dir, String name) throws Exception {
        Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(png, dir.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
