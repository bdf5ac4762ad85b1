// Small building blocks: labelled fields, error and status messages, a confirmation dialog, copy
// buttons and masked values. Every control has an accessible name; everything works by keyboard.

import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import { ApiError, messageOf } from './api';
import { href, navigate } from './router';

let idCounter = 0;
export function useId(prefix: string): string {
  const ref = useRef<string>();
  if (!ref.current) ref.current = `${prefix}-${++idCounter}`;
  return ref.current;
}

// A link inside the app: navigates without a reload; new tabs and modified clicks behave as usual.
export function Link(props: {
  to: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page' | undefined;
}) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={href(props.to)} onClick={onClick} class={props.class} aria-current={props['aria-current']}>
      {props.children}
    </a>
  );
}

interface FieldProps {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'password' | 'number';
  hint?: ComponentChildren;
  error?: string | null;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  disabled?: boolean;
  autoFocus?: boolean;
  spellcheck?: boolean;
  inputMode?: 'numeric' | 'text';
}

export function Field(p: FieldProps) {
  const id = useId('f');
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (p.autoFocus) ref.current?.focus();
  }, []);
  const described = [p.hint ? `${id}-hint` : '', p.error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        ref={ref}
        id={id}
        type={p.type ?? 'text'}
        value={p.value}
        onInput={(e) => p.onInput((e.target as HTMLInputElement).value)}
        required={p.required}
        autoComplete={p.autoComplete ?? 'off'}
        placeholder={p.placeholder}
        disabled={p.disabled}
        spellcheck={p.spellcheck ?? false}
        inputMode={p.inputMode}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described}
      />
      {p.hint && (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
      {p.error && (
        <p class="field-error" id={`${id}-err`}>
          {p.error}
        </p>
      )}
    </div>
  );
}

export function TextArea(p: FieldProps & { rows?: number; mono?: boolean }) {
  const id = useId('t');
  const described = [p.hint ? `${id}-hint` : '', p.error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <textarea
        id={id}
        rows={p.rows ?? 4}
        class={p.mono ? 'mono' : undefined}
        value={p.value}
        onInput={(e) => p.onInput((e.target as HTMLTextAreaElement).value)}
        required={p.required}
        placeholder={p.placeholder}
        spellcheck={false}
        autoComplete="off"
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described}
      />
      {p.error && (
        <p class="field-error" id={`${id}-err`} role="alert">
          {p.error}
        </p>
      )}
      {p.hint && (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
    </div>
  );
}

export function Select(p: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: Array<[string, string]>;
  hint?: ComponentChildren;
}) {
  const id = useId('s');
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select
        id={id}
        value={p.value}
        onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}
        aria-describedby={p.hint ? `${id}-hint` : undefined}
      >
        {p.options.map(([v, label]) => (
          <option value={v} key={v}>
            {label}
          </option>
        ))}
      </select>
      {p.hint && (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
    </div>
  );
}

// A failed request, readable: role=alert so that screen readers announce it.
export function ErrorBox(p: { error: unknown; children?: ComponentChildren }) {
  if (p.error === undefined || p.error === null) return null;
  const denied = p.error instanceof ApiError && p.error.status === 403;
  return (
    <div class={denied ? 'alert alert-denied' : 'alert alert-error'} role="alert">
      {messageOf(p.error)}
      {p.children}
    </div>
  );
}

export function Notice(p: { children: ComponentChildren }) {
  return (
    <div class="alert alert-ok" role="status">
      {p.children}
    </div>
  );
}

export function Loading(p: { what?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading{p.what ? ` ${p.what}` : ''}…
    </p>
  );
}

// A modal confirmation (the native <dialog>: focus stays inside, Escape cancels).
export function ConfirmDialog(p: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId('dlg');
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      if (d?.open) d.close();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        p.onCancel();
      }}
    >
      <h2 id={titleId}>{p.title}</h2>
      <div class="dialog-body">{p.children}</div>
      <div class="actions">
        <button type="button" class={p.danger ? 'danger' : 'primary'} disabled={p.busy} onClick={p.onConfirm}>
          {p.confirmLabel}
        </button>
        <button type="button" onClick={p.onCancel} autoFocus>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

// Copies a value to the clipboard (the Clipboard API where the page is a secure context, a hidden
// text area otherwise) and says so.
export function CopyButton(p: { value: string; label: string; text?: string }) {
  const [state, setState] = useState<'' | 'copied' | 'failed'>('');
  const copy = async () => {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(p.value);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok) ok = copyWithTextArea(p.value);
    setState(ok ? 'copied' : 'failed');
    setTimeout(() => setState(''), 2000);
  };
  return (
    <span class="copy">
      <button type="button" class="small" onClick={copy} aria-label={p.text ? undefined : `Copy ${p.label}`}>
        {p.text ?? 'Copy'}
      </button>
      <span class="copy-state" role="status" aria-live="polite">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy by hand' : ''}
      </span>
    </span>
  );
}

function copyWithTextArea(value: string): boolean {
  const ta = document.createElement('textarea');
  ta.value = value;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

// A secret value: dots until "Show".
export function MaskedValue(p: { value: string; label: string }) {
  const [shown, setShown] = useState(false);
  return (
    <span class="masked">
      <code class={shown ? 'value' : 'value hidden-value'} aria-label={shown ? undefined : `${p.label} (hidden)`}>
        {shown ? p.value : '••••••••'}
      </code>
      <button
        type="button"
        class="small"
        onClick={() => setShown(!shown)}
        aria-label={`${shown ? 'Hide' : 'Show'} ${p.label}`}
        aria-pressed={shown}
      >
        {shown ? 'Hide' : 'Show'}
      </button>
      <CopyButton value={p.value} label={p.label} />
    </span>
  );
}

export function PageHeader(p: { title: string; children?: ComponentChildren; crumbs?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${p.title} · vault-cpp`;
  }, [p.title]);
  return (
    <header class="page-header">
      {p.crumbs && (
        <nav aria-label="Breadcrumb" class="crumbs">
          {p.crumbs}
        </nav>
      )}
      <h1>{p.title}</h1>
      {p.children && <div class="page-actions">{p.children}</div>}
    </header>
  );
}

// The reason a control is disabled, for its title and for screen readers.
export const NOT_ALLOWED = 'Your token’s policies do not allow this';

export function Form(p: { onSubmit: () => void; children: ComponentChildren; label: string; class?: string }) {
  const submit = (e: JSX.TargetedEvent<HTMLFormElement, Event>) => {
    e.preventDefault();
    p.onSubmit();
  };
  return (
    <form onSubmit={submit} aria-label={p.label} class={p.class ?? 'form'} noValidate>
      {p.children}
    </form>
  );
}
