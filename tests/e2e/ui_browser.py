"""Headless Chromium (Debian's chromium, chromium-driver and python3-selenium) driving the web UI
the way a person does: controls are found by their accessible names (label text, button text or
aria-label), and every wait is for a condition, never for a time.

    with Browser() as b:
        b.open(server.addr + "/ui/")
        b.fill("Token", ROOT_TOKEN)
        b.click("Sign in")
        b.wait_text("Secrets engines")
"""
import os

from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException, TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 20


def xpath_literal(s):
    """A string as an XPath 1.0 literal (which has no escapes)."""
    if "'" not in s:
        return "'%s'" % s
    if '"' not in s:
        return '"%s"' % s
    return "concat(%s)" % ", \"'\", ".join("'%s'" % part for part in s.split("'"))


class Browser:
    def __init__(self, width=1280, height=900, phone=False):
        """phone: a phone's screen (390 x 844 CSS pixels, touch), emulated: a headless window
        is never narrower than 500 pixels."""
        options = webdriver.ChromeOptions()
        if phone:
            options.add_experimental_option("mobileEmulation", {
                "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": True}})
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=%d,%d" % (width, height), "--lang=en-US",
                    "--no-first-run", "--disable-extensions"):
            options.add_argument(arg)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.logs = []

    # -- finding things by what a person reads ----------------------------------------------------

    def wait(self, condition, timeout=WAIT_SECONDS, message=""):
        def attempt(driver):
            try:
                return condition()
            except (StaleElementReferenceException, WebDriverException):
                return False
        try:
            return WebDriverWait(self.driver, timeout).until(attempt, message)
        except TimeoutException:
            # What the page showed, for the failure's report.
            raise TimeoutException("%s; the page at %s showed:\n%s" % (
                message, self.driver.current_url, self.text()[:2000])) from None

    def _visible(self, xpath, scope=None):
        root = scope or self.driver
        return [e for e in root.find_elements(By.XPATH, xpath) if e.is_displayed()]

    def scope(self):
        """The open modal dialog, if any (the page behind it is inert), else the page."""
        dialogs = [d for d in self.driver.find_elements(By.CSS_SELECTOR, "dialog[open]")]
        return dialogs[-1] if dialogs else None

    def button(self, name, enabled=True, within=None):
        n = xpath_literal(name)
        xpath = (".//button[normalize-space()=%s or @aria-label=%s] | .//a[contains(@class,'button') "
                 "and normalize-space()=%s]" % (n, n, n))

        def find():
            found = self._visible(xpath, within or self.scope())
            if enabled:
                found = [e for e in found if e.is_enabled()]
            return found[0] if found else None
        return self.wait(find, message="no %sbutton named %r" % ("enabled " if enabled else "", name))

    def click(self, name, within=None):
        self.button(name, within=within).click()

    def link(self, name):
        xpath = ".//a[normalize-space()=%s]" % xpath_literal(name)
        return self.wait(lambda: (self._visible(xpath, self.scope()) or [None])[0],
                         message="no link named %r" % name)

    def follow(self, name):
        self.link(name).click()

    def field(self, label):
        xpath = ".//label[normalize-space()=%s]" % xpath_literal(label)

        def find():
            labels = self._visible(xpath, self.scope())
            if not labels:
                return None
            return self.driver.find_element(By.ID, labels[0].get_attribute("for"))
        return self.wait(find, message="no field labelled %r" % label)

    def fill(self, label, text):
        f = self.field(label)
        f.clear()
        f.send_keys(text)
        return f

    def choose(self, label, value):
        Select(self.field(label)).select_by_value(value)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def wait_text(self, text, timeout=WAIT_SECONDS):
        self.wait(lambda: text in self.text(), timeout, "the page never showed %r" % text)

    def wait_no_text(self, text, timeout=WAIT_SECONDS):
        self.wait(lambda: text not in self.text(), timeout, "the page kept showing %r" % text)

    def css(self, selector):
        return self.wait(lambda: (self._visible_css(selector) or [None])[0],
                         message="nothing matches %r" % selector)

    def _visible_css(self, selector):
        return [e for e in self.driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]

    def alerts(self):
        return [e.text for e in self._visible_css("[role=alert]")]

    # -- the page -----------------------------------------------------------------------------------

    def open(self, url):
        self.driver.get(url)

    def script(self, js, *args):
        return self.driver.execute_script(js, *args)

    def screenshot(self, name):
        """Saves a PNG under $VAULT_UI_SCREENSHOTS (the README's pictures), when it is set."""
        folder = os.environ.get("VAULT_UI_SCREENSHOTS")
        if folder:
            os.makedirs(folder, exist_ok=True)
            self.driver.save_screenshot(os.path.join(folder, name + ".png"))

    def console(self):
        """Every browser log entry so far (Chromium hands each out once)."""
        self.logs.extend(self.driver.get_log("browser"))
        return list(self.logs)

    def quit(self):
        self.driver.quit()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()
