/**
 * The browser side of hyperlab's JupyterLab: the JupyterLab 3.6 application
 * with the plugins listed in package.json's "jupyterlab" section, and plotly's
 * MIME renderer (application/vnd.plotly.v1+json). webpack bundles this file
 * into build/bundle.js; serve.py serves it. Assembled the way JupyterLab's
 * examples/app does it.
 */
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// Assets (fonts, images, lazily loaded chunks) load from the server's static URL.
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

// The CSS of every plugin package, listed by @jupyterlab/builder at build time.
const styles = import('./build/style.js');

// Keep in step with "jupyterlab.extensions" in package.json (webpack.config.js copies their schemas and themes).
const plugins = [
  import('@jupyterlab/application-extension'),
  import('@jupyterlab/apputils-extension'),
  import('@jupyterlab/codemirror-extension'),
  import('@jupyterlab/console-extension'),
  import('@jupyterlab/docmanager-extension'),
  import('@jupyterlab/docprovider-extension'),
  import('@jupyterlab/filebrowser-extension'),
  import('@jupyterlab/fileeditor-extension'),
  import('@jupyterlab/launcher-extension'),
  import('@jupyterlab/mainmenu-extension'),
  import('@jupyterlab/notebook-extension'),
  import('@jupyterlab/rendermime-extension'),
  import('@jupyterlab/shortcuts-extension'),
  import('@jupyterlab/statusbar-extension'),
  import('@jupyterlab/theme-light-extension'),
  import('@jupyterlab/translation-extension'),
  import('@jupyterlab/ui-components-extension'),
];

// Renderers for more output types: plotly's figures.
const mimeExtensions = [import('jupyterlab-plotly/lib/plotly-renderer')];

window.addEventListener('load', async () => {
  await styles;
  const lab = new JupyterLab({ mimeExtensions: await Promise.all(mimeExtensions) });
  lab.registerPluginModules(await Promise.all(plugins));
  // Tests drive the lab through its API: serve.py --expose-app puts it on window.
  if (PageConfig.getOption('exposeAppInBrowser') === 'true') window.jupyterapp = lab;
  await lab.start();
  await lab.restored;
  console.log('hyperlab lab: ready');
});
