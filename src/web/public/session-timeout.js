// The console's timeout warning (GOV.UK's timeout warning pattern), written by hand: GOV.UK
// Frontend has no such component. The server decides: before warning, and before leaving, the
// script asks /ops/session how long is left, so activity in another tab keeps this one open.
// Without this script the session still ends on the server after the same idle time.
const dialog = document.getElementById('entitle-timeout');
const countdown = document.getElementById('entitle-timeout-countdown');
const live = document.getElementById('entitle-timeout-live');
const stay = document.getElementById('entitle-timeout-stay');
const warningSeconds = Number(dialog.dataset.warningSeconds);
const timedOut = '/ops/sign-in?timedOut=yes';

let timer;
let ticker;
let returnFocus;

const spoken = (seconds) =>
  seconds >= 60
    ? `${Math.ceil(seconds / 60)} minute${Math.ceil(seconds / 60) === 1 ? '' : 's'}`
    : `${seconds} second${seconds === 1 ? '' : 's'}`;

async function secondsLeft() {
  try {
    const response = await fetch('/ops/session', { credentials: 'same-origin', cache: 'no-store' });
    const body = await response.json();
    return body.signedIn ? body.secondsLeft : 0;
  } catch {
    // The service did not answer: keep the page, and ask again shortly.
    return warningSeconds + 15;
  }
}

function close() {
  clearInterval(ticker);
  if (dialog.open) dialog.close();
  if (returnFocus) returnFocus.focus();
}

async function check() {
  const left = await secondsLeft();
  if (left <= 0) return window.location.assign(timedOut);
  if (left > warningSeconds) {
    close();
    return schedule(left - warningSeconds);
  }
  warn(left);
}

function warn(left) {
  const endsAt = Date.now() + left * 1000;
  if (!dialog.open) {
    returnFocus = document.activeElement;
    dialog.showModal();
    stay.focus();
    live.textContent = `For your security, we will sign you out in ${spoken(left)}.`;
  }
  clearInterval(ticker);
  let lastSpoken = Math.ceil(left / 60);
  const tick = () => {
    const remaining = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    countdown.textContent = spoken(remaining);
    // Announced each minute, then at 30 and 10 seconds: often enough to know, not so often as to drown the page.
    const minute = Math.ceil(remaining / 60);
    if (minute !== lastSpoken || remaining === 30 || remaining === 10) {
      lastSpoken = minute;
      live.textContent = `We will sign you out in ${spoken(remaining)}.`;
    }
    if (remaining === 0) {
      clearInterval(ticker);
      void check();
    }
  };
  tick();
  ticker = setInterval(tick, 1000);
}

function schedule(seconds) {
  clearTimeout(timer);
  timer = setTimeout(() => void check(), seconds * 1000);
}

stay.addEventListener('click', async () => {
  const response = await fetch('/ops/session/extend', { method: 'POST', credentials: 'same-origin' }).catch(
    () => undefined,
  );
  if (!response || !response.ok) return window.location.assign(timedOut);
  const body = await response.json();
  close();
  schedule(body.secondsLeft - body.warningSeconds);
});

// Escape closes a modal dialog; here it means "stay signed in", as the pattern asks.
dialog.addEventListener('cancel', (event) => {
  event.preventDefault();
  stay.click();
});

schedule(Number(dialog.dataset.idleSeconds) - warningSeconds);
