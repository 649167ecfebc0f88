"""The storefront in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

The page is served through execute-api on the emulator: it loads the catalogue, a customer fills the cart
with the keyboard and the mouse, checks out, and the order's journey on the page follows the pipeline to
the receipt while consumer.py drains. The last screenshot is kept as storefront.png in the test's tmp_path
(docs/storefront.png is a copy of one).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from blackfriday.api.routes import IDEMPOTENCY_NAMESPACE
from blackfriday.domain import CATALOGUE, payment_outcome

pytestmark = pytest.mark.emulator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PAGE_WAIT_SECONDS = 30
JOURNEY_WAIT_SECONDS = 120  # the whole saga on a busy 2-core machine; a bound, not a timing assertion
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1100"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def approved_key() -> str:
    """An Idempotency-Key whose orderId the payment simulator approves, so the order completes."""
    return next(key for key in (f"browser-{uuid.uuid4()}" for _ in range(50)) if payment_outcome(str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, key))) == "approved")


def test_a_customer_orders_in_the_storefront_and_follows_the_journey_to_the_receipt(browser, orders_api_stack, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    stack = orders_api_stack.stack
    stack.gateway.client("dynamodb").put_item(TableName=stack.info.tables["inventory"], Item={"sku": {"S": "DB-TV-65"}, "stock": {"N": "3"}})
    wait = WebDriverWait(browser, PAGE_WAIT_SECONDS)

    def text(selector: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, selector).text

    # GIVEN the storefront, served by the API
    browser.get(orders_api_stack.url + "/")
    wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#products li.product")) == len(CATALOGUE))
    # THEN the catalogue shows live stock, the doorbuster visibly scarce
    assert browser.title == "Black Friday store"
    assert "doorbuster" in browser.find_element(By.CSS_SELECTOR, 'li[data-sku="DB-TV-65"]').get_attribute("class")
    assert text('li[data-sku="DB-TV-65"] .stock.scarce') == "Only 3 left"
    # WHEN the customer adds the TV with the keyboard and a lamp with the mouse, and checks out
    browser.find_element(By.CSS_SELECTOR, 'button[data-sku="DB-TV-65"]').send_keys(Keys.ENTER)
    browser.find_element(By.CSS_SELECTOR, 'button[data-sku="HM-LAMP"]').click()
    assert text("#cart-total") == "Total $528.00"
    browser.find_element(By.ID, "customer-name").send_keys("Ana Smith")
    browser.find_element(By.ID, "customer-email").send_keys("ana@example.com")
    Select(browser.find_element(By.ID, "payment-method")).select_by_value("paypal")
    browser.execute_script("crypto.randomUUID = () => arguments[0];", approved_key())  # the checkout's Idempotency-Key
    browser.find_element(By.ID, "place-order").click()
    # THEN the order is accepted and its journey appears, nothing done yet
    wait.until(lambda driver: driver.find_elements(By.ID, "order-status"))
    assert text("#order-status") == "ACCEPTED"
    assert [item.get_attribute("class") for item in browser.find_elements(By.CSS_SELECTOR, "#journey .steps li")] == ["pending"] * 5
    assert browser.find_element(By.ID, "journey").get_attribute("aria-live") == "polite"
    assert browser.switch_to.active_element.get_attribute("id") == "track-title"  # focus follows the order
    # WHEN the consumer drains the queues
    orders_api_stack.drain()
    # THEN the page, polling, shows every step done, COMPLETED, and the receipt; the stock it shows is live
    WebDriverWait(browser, JOURNEY_WAIT_SECONDS).until(lambda driver: driver.find_elements(By.ID, "receipt"))
    assert text("#order-status") == "COMPLETED"
    assert [item.get_attribute("class") for item in browser.find_elements(By.CSS_SELECTOR, "#journey .steps li")] == ["done"] * 5
    assert "Charged $528.00 (paypal, pay_" in text("#receipt")
    wait.until(lambda driver: driver.find_element(By.CSS_SELECTOR, 'li[data-sku="DB-TV-65"] .stock').text == "Only 2 left")
    browser.set_window_size(1280, 1500)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(tmp_path / "storefront.png"))
    # AND on a phone's width nothing scrolls sideways
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.save_screenshot(str(tmp_path / "storefront-phone.png"))
