/**
 * Builds the lab (index.js) into build/: bundle.js with its chunks, the
 * plugins' settings schemas (build/schemas) and the light theme (build/themes).
 * `npm run build` in this folder; scripts/lab-setup.sh runs it.
 */
const path = require('path');
const { Build } = require('@jupyterlab/builder');
const pkg = require('./package.json');

const build = path.join(__dirname, 'build');

// Copies each plugin package's schemas and theme, and writes build/style.js (their CSS imports).
const assets = Build.ensureAssets({ packageNames: pkg.jupyterlab.extensions, output: build });

module.exports = [
  {
    entry: './index.js',
    output: { path: build, filename: 'bundle.js', hashFunction: 'sha256' },
    // Unminified and without source maps: the build is a setup step on slow machines.
    mode: 'development',
    devtool: false,
    bail: true,
    resolve: {
      alias: {
        // jupyterlab-plotly imports plotly.js's full source build; package.json installs
        // plotly.js-dist-min (the same release, prebuilt and minified) under that name.
        'plotly.js/dist/plotly$': path.join(__dirname, 'node_modules', 'plotly.js', 'plotly.min.js'),
      },
    },
    module: {
      // plotly.min.js is a prebuilt bundle: nothing in it to parse for imports.
      noParse: /plotly\.min\.js$/,
      rules: [
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.(html|jpg|png|gif|eot)$/, type: 'asset/resource' },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        // SVG: a data URI inside CSS, the SVG text inside JavaScript (icons).
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.css$/, type: 'asset/inline' },
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' },
      ],
    },
    plugins: [
      new (require('webpack').DefinePlugin)({
        // Packages written for Node ask for process.env and process.cwd().
        'process.env': '{}',
        process: { cwd: () => '/' },
      }),
    ],
  },
  ...assets,
];
