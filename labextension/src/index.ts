/**
 * claude-magic's page side: Claude adds, edits and runs visible cells, with consent on the cell.
 *
 * The kernel (claude_magic/cells/bridge.py) opens the comm `claude_magic.cells` and sends requests on it.
 * This extension answers on `claude_magic.cells.reply`, a comm it opens itself: JupyterLab sends the
 * messages of a comm the page opened over a kernel subshell, so the kernel reads the answers while the
 * `%%claude` cell that asked is still running. Every request names the page it is for (`to`: the reply
 * comm's id), so a second tab or a reloaded page never acts twice.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';

const REQUEST_TARGET = 'claude_magic.cells';
const REPLY_TARGET = 'claude_magic.cells.reply';
const PROTOCOL = 1;
const VERSION = '0.1.0';
const MARK_KEY = 'claude_magic';

type JSONObject = { [key: string]: any };

/** The comm pair of one notebook panel and its kernel. */
class Bridge {
  private reply: Kernel.IComm | null = null;
  private kernel: Kernel.IKernelConnection | null = null;

  constructor(private panel: NotebookPanel, private app: string) {
    const context = panel.sessionContext;
    context.kernelChanged.connect(() => this.connect());
    context.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        this.reply = null;
      }
    });
    void context.ready.then(() => this.connect());
    void panel.context.ready.then(() => {
      this.markAll();
      panel.content.model?.cells.changed.connect(() => this.markAll());
    });
  }

  /** A mark beside the prompt of every cell Claude wrote (from its metadata, so it survives a reload). */
  private markAll(): void {
    for (const widget of this.panel.content.widgets) {
      const mark = widget.model.getMetadata(MARK_KEY) as JSONObject | undefined;
      widget.toggleClass('claude-magic-cell-mark', Boolean(mark && mark.made_by === 'claude'));
    }
  }

  /** Listen for the kernel's hello; and, if claude-magic is already loaded there (a reload), say hello. */
  private connect(): void {
    const kernel = this.panel.sessionContext.session?.kernel ?? null;
    if (kernel === this.kernel || kernel === null) {
      return;
    }
    this.kernel = kernel;
    this.reply = null;
    kernel.registerCommTarget(REQUEST_TARGET, (comm, message) => this.onRequestsOpened(comm, message));
    void kernel.requestCommInfo({ target_name: REQUEST_TARGET }).then(reply => {
      const content = reply.content as JSONObject;
      if (content.status === 'ok' && Object.keys(content.comms || {}).length > 0 && this.reply === null) {
        this.openReply(true);
      }
    }).catch(() => undefined);
  }

  private onRequestsOpened(comm: Kernel.IComm, _message: KernelMessage.ICommOpenMsg): void {
    comm.onMsg = message => this.onRequest(message.content.data as JSONObject);
    if (this.reply === null || this.reply.isDisposed) {
      this.openReply(false);
    }
  }

  /** Open the reply comm once its subshell is up, so that its messages never queue behind a running cell. */
  private openReply(reopen: boolean): void {
    const kernel = this.kernel;
    if (kernel === null) {
      return;
    }
    const reply = kernel.createComm(REPLY_TARGET);
    this.reply = reply;
    reply.onClose = () => {
      if (this.reply === reply) {
        this.reply = null;
      }
    };
    void (async () => {
      await kernel.info;
      const subshells = Boolean((kernel as any).supportsSubshells);
      if (subshells) {
        await (reply as any).subshellStarted;
      }
      if (this.reply === reply && !reply.isDisposed) {
        reply.open({ protocol: PROTOCOL, version: VERSION, app: this.app, reopen, subshells });
      }
    })().catch(error => console.warn('claude-magic: could not open the reply comm', error));
  }

  private async onRequest(data: JSONObject): Promise<void> {
    const reply = this.reply;
    if (reply === null || data.to !== reply.commId) {
      return;
    }
    try {
      const result = await this.handle(data);
      if (data.id) {
        reply.send({ id: data.id, ok: true, result });
      }
    } catch (error) {
      if (data.id) {
        reply.send({ id: data.id, ok: false, error: String((error as Error)?.message ?? error) });
      }
    }
  }

  private handle(data: JSONObject): any {
    switch (data.op) {
      case 'read':
        return this.read(data.cell_id);
      case 'add':
        return this.add(data.cell_type, data.source, data.after, data.metadata);
      case 'edit':
        return this.edit(data.cell_id, data.source, data.metadata);
      case 'outputs':
        return this.outputs(data.cell_id, data.outputs, data.execution_count);
      case 'delete':
        return this.remove(data.cell_ids || []);
      case 'consent':
        return this.consent(data.cell_id, String(data.tool || ''), String(data.text || ''));
      case 'running':
        return this.running(data.cell_id);
      default:
        throw new Error(`unknown request ${JSON.stringify(data.op)}`);
    }
  }

  // -- the notebook ----------------------------------------------------------------------------
  private get model() {
    const model = this.panel.content.model;
    if (model === null) {
      throw new Error('the notebook has no model');
    }
    return model;
  }

  private indexOf(cellId: string): number {
    const cells = this.model.sharedModel.cells;
    for (let index = 0; index < cells.length; index++) {
      if (cells[index].id === cellId) {
        return index;
      }
    }
    return -1;
  }

  private cellAt(cellId: string) {
    const index = this.indexOf(cellId);
    if (index < 0) {
      throw new Error(`there is no cell with id ${JSON.stringify(cellId)} (read_notebook lists the ids)`);
    }
    return { index, model: this.model.cells.get(index) };
  }

  private read(cellId?: string): JSONObject {
    const cells: JSONObject[] = [];
    const all = this.model.cells;
    for (let index = 0; index < all.length; index++) {
      const cell = all.get(index);
      if (cellId && cell.id !== cellId) {
        continue;
      }
      cells.push(cell.toJSON() as JSONObject);
    }
    return { path: this.panel.context.path, cells };
  }

  private add(cellType: string, source: string, after: string | null, metadata: JSONObject): JSONObject {
    const shared = this.model.sharedModel;
    const anchor = after ? this.indexOf(after) : -1;
    const index = anchor >= 0 ? anchor + 1 : shared.cells.length;
    const kind = cellType === 'markdown' ? 'markdown' : 'code';
    const cell = shared.insertCell(index, { cell_type: kind, source, metadata: metadata || {} } as any);
    if (kind === 'markdown') {
      const widget = this.panel.content.widgets[index] as any;
      if (widget && 'rendered' in widget) {
        widget.rendered = true;
      }
    }
    this.markAll();
    return { id: cell.id, index, placed_after: anchor >= 0 ? after : null };
  }

  private edit(cellId: string, source: string, metadata: JSONObject | null): JSONObject {
    const { index, model } = this.cellAt(cellId);
    model.sharedModel.transact(() => {
      model.sharedModel.setSource(source);
      for (const [key, value] of Object.entries(metadata || {})) {
        model.sharedModel.setMetadata(key, value);
      }
    });
    const widget = this.panel.content.widgets[index] as any;
    if (widget && model.type === 'markdown' && 'rendered' in widget) {
      widget.rendered = true;
    }
    return { id: cellId, index };
  }

  private outputs(cellId: string, outputs: JSONObject[], count: number | null): JSONObject {
    const { index, model } = this.cellAt(cellId);
    if (model.type !== 'code') {
      throw new Error(`cell ${cellId} is not a code cell`);
    }
    const code = model as any;
    code.outputs.clear();
    for (const output of outputs || []) {
      code.outputs.add(output);
    }
    code.executionCount = count ?? null;
    this.setBusy(index, false);
    return { id: cellId, index };
  }

  private remove(cellIds: string[]): JSONObject {
    // every index first, then delete from the last: a deletion must never shift the next one onto another cell
    const found = cellIds.map(cellId => ({ cellId, index: this.indexOf(cellId) })).filter(item => item.index >= 0);
    found.sort((a, b) => b.index - a.index);
    const shared = this.model.sharedModel;
    shared.transact(() => {
      for (const item of found) {
        shared.deleteCell(item.index);
      }
    });
    return { removed: found.map(item => item.cellId) };
  }

  private running(cellId: string): JSONObject {
    const index = this.indexOf(cellId);
    if (index >= 0) {
      this.setBusy(index, true);
    }
    return {};
  }

  private setBusy(index: number, busy: boolean): void {
    const widget = this.panel.content.widgets[index] as any;
    if (widget && widget.model?.type === 'code' && busy) {
      widget.setPrompt?.('*');
    }
  }

  /** Run / Skip on the cell: resolves true only for an explicit Run. */
  private consent(cellId: string, tool: string, text: string): Promise<boolean> {
    const { index } = this.cellAt(cellId);
    const widget = this.panel.content.widgets[index];
    const box = document.createElement('div');
    box.className = 'claude-magic-consent';
    const title = document.createElement('div');
    title.textContent = tool === 'run_cell' ? 'Claude wants to run this cell.' : 'Claude wants to change this cell.';
    const details = document.createElement('pre');
    details.textContent = text;             // text only: nothing in it is markup
    const run = document.createElement('button');
    run.className = 'jp-Button jp-mod-accept jp-mod-styled claude-magic-consent-run';
    run.textContent = tool === 'run_cell' ? 'Run' : 'Allow';
    const skip = document.createElement('button');
    skip.className = 'jp-Button jp-mod-reject jp-mod-styled claude-magic-consent-skip';
    skip.textContent = 'Skip';
    box.append(title);
    if (text) {
      box.append(details);
    }
    box.append(run, skip);
    widget.node.prepend(box);
    box.scrollIntoView({ block: 'nearest' });
    return new Promise<boolean>(resolve => {
      const done = (answer: boolean) => {
        box.remove();
        resolve(answer);
      };
      run.onclick = () => done(true);
      skip.onclick = () => done(false);
    });
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'claude-magic-cells:plugin',
  description: 'Claude adds, edits and runs visible cells (claude-magic), with consent on the cell.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    const attached = new WeakSet<NotebookPanel>();
    const attach = (panel: NotebookPanel) => {
      if (!attached.has(panel)) {
        attached.add(panel);
        new Bridge(panel, app.name);
      }
    };
    tracker.forEach(attach);
    tracker.widgetAdded.connect((_, panel) => attach(panel));
  }
};

export default plugin;
