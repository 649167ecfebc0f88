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

from blackfriday.api.intake import IDEMPOTENCY_NAMESPACE
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
    return next(
        key
        for key in (f"browser-{uuid.uuid4()}" for _ in range(50))
        if payment_outcome(str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, key))) == "approved"
    )


def test_a_customer_orders_in_the_storefront_and_follows_the_journey_to_the_receipt(browser, orders_api_stack, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    stack = orders_api_stack.stack
    stack.gateway.client("dynamodb").put_item(
        TableName=stack.info.tables["inventory"], Item={"sku": {"S": "DB-TV-65"}, "stock": {"N": "3"}}
    )
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
    def step_classes(driver) -> list[str]:
        return [item.get_attribute("class") for item in driver.find_elements(By.CSS_SELECTOR, "#journey .steps li")]

    # (the receipt can show while the confirmation is still being sent: wait for the journey's end)
    WebDriverWait(browser, JOURNEY_WAIT_SECONDS).until(
        lambda driver: driver.find_elements(By.ID, "receipt") and step_classes(driver) == ["done"] * 5
    )
    assert text("#order-status") == "COMPLETED"
    assert step_classes(browser) == ["done"] * 5
    assert "Charged $528.00 (paypal, pay_" in text("#receipt")
    wait.until(lambda driver: driver.find_element(By.CSS_SELECTOR, 'li[data-sku="DB-TV-65"] .stock').text == "Only 2 left")
    browser.set_window_size(1280, 1500)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(tmp_path / "storefront.png"))
    # AND on a phone's width nothing scrolls sideways
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.save_screenshot(str(tmp_path / "storefront-phone.png"))


def test_a_reviewer_rejects_a_waiting_order_on_the_review_page(browser, orders_api_stack, tmp_path):
    import requests
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = orders_api_stack.url
    wait = WebDriverWait(browser, PAGE_WAIT_SECONDS)
    # GIVEN an order over the $1,000 threshold, posted and drained: it waits for a person
    big = {
        "customer": {"name": "Bo Chen", "email": "bo@example.com"},
        "items": [
            {"sku": "HP-TABLET", "quantity": 3, "unitPriceCents": 24900},
            {"sku": "HP-VACUUM", "quantity": 3, "unitPriceCents": 17900},
        ],
        "totalCents": 128_400,
        "paymentMethod": "card",
    }
    posted = requests.post(f"{url}/orders", json=big, headers={"Idempotency-Key": approved_key()}, timeout=PAGE_WAIT_SECONDS)
    order_id = posted.json()["orderId"]
    orders_api_stack.drain()
    # WHEN the reviewer follows the storefront's link to the review page
    browser.get(url + "/")
    browser.find_element(By.LINK_TEXT, "Review big orders").click()
    row = f'tr[data-order-id="{order_id}"]'
    wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, row))
    # THEN the order is listed with its customer's total and items
    cells = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, f"{row} td")][:4]
    assert cells[0] == order_id and cells[2:4] == ["$1,284.00", "HP-TABLET x3, HP-VACUUM x3"]
    browser.set_window_size(1280, 700)
    browser.save_screenshot(str(tmp_path / "review.png"))
    # WHEN they reject it without a reason THEN the page says a reason is required, and the order still waits
    browser.find_element(By.CSS_SELECTOR, f"{row} button.reject").click()
    wait.until(lambda driver: driver.find_element(By.ID, "message").text)
    assert browser.find_element(By.ID, "message").text == "reason is required to reject: the customer is told why"
    # WHEN they type a reason and the page refreshes its list meanwhile (it does every 5 seconds)
    reason = browser.find_element(By.CSS_SELECTOR, f"{row} input")
    reason.send_keys("ten appliances, new account")
    browser.execute_async_script("load().then(arguments[arguments.length - 1])")
    # THEN what they typed is still there, in the same field
    assert browser.find_element(By.CSS_SELECTOR, f"{row} input") == reason
    assert reason.get_attribute("value") == "ten appliances, new account"
    # WHEN they reject it THEN the page says so and the order leaves the list
    browser.find_element(By.CSS_SELECTOR, f"{row} button.reject").click()
    wait.until(lambda driver: "rejected" in driver.find_element(By.ID, "message").text)
    assert browser.find_element(By.ID, "message").text == f"Order {order_id} rejected: its stock is released."
    wait.until(lambda driver: not driver.find_elements(By.CSS_SELECTOR, row))
    browser.save_screenshot(str(tmp_path / "review-after.png"))
    # AND the order's journey ends FAILED Rejected with the note
    journey = WebDriverWait(browser, JOURNEY_WAIT_SECONDS, poll_frequency=1).until(
        lambda driver: (answer := requests.get(f"{url}/orders/{order_id}", timeout=PAGE_WAIT_SECONDS).json())["status"] == "FAILED"
        and answer
    )
    assert journey["failure"] == {"error": "Rejected", "reason": "Rejected: ten appliances, new account (by order-api)"}
