// The WebAssembly text of glmflow's own wasm kernels (see kernels.ts for why they exist).
// `npm run build:kernels` compiles it to kernels.wasm, which is committed; a test checks that
// the two agree.
//
// Products: C[M, N] = A[M, K] @ B[K, N], f32, row-major. B is first packed into panels of 8 columns,
// panel p holding B[k][8p .. 8p+7] for every k in turn, so the inner loop reads B from one
// moving pointer. A is read in place, one pointer per row of the tile, stepping by aStep per k:
// 4 bytes for A itself, a whole row of the stored matrix for a transposed A (the tile's rows
// are then neighbouring floats, as cache-friendly as rows). A tile is R rows
// by 8 columns: 2R f32x4 accumulators, updated with one fused multiply-add (relaxed SIMD)
// per accumulator and k. R = 6 keeps 12 accumulators, two B vectors and the splat of A
// within the 16 SIMD registers V8 uses on x64; R = 1..5 finish the rows that remain.

/** Rows per full tile. */
export const TILE_ROWS = 6;
/** Columns per panel. */
export const PANEL = 8;

/**
 * `tilesR(a, aRow, aStep, b, c, tiles, panels, k, ldc, accumulate, bStride)`, byte addresses and
 * strides: for each of `tiles` R-row tiles of A (row i at a + i*aRow, its k-th value aStep
 * further each time) and each of `panels` panels of B (the panel p at b + p*bStride), the R×8
 * block of C at c + t*R*ldc + p*32 becomes (or, with accumulate, gains) the product over `k` steps.
 */
function tiles(R: number): string {
  const acc = (r: number, h: number): string => `$c${r}_${h}`;
  const lines: string[] = [];
  const add = (line: string): void => void lines.push(line);
  add(`(func (export "tiles${R}") (param $a i32) (param $aRow i32) (param $aStep i32) (param $b i32) (param $c i32) (param $tiles i32) (param $panels i32) (param $k i32) (param $ldc i32) (param $accumulate i32) (param $bStride i32)`);
  add('  (local $t i32) (local $p i32) (local $bp i32) (local $n i32) (local $cp i32) (local $splat v128) (local $b0 v128) (local $b1 v128)');
  for (let r = 0; r < R; r++) add(`  (local $a${r} i32) (local ${acc(r, 0)} v128) (local ${acc(r, 1)} v128)`);
  add('  (block $tilesDone (loop $tile');
  add('    (br_if $tilesDone (i32.ge_u (local.get $t) (local.get $tiles)))');
  add('    (local.set $p (i32.const 0))');
  add('    (block $panelsDone (loop $panel');
  add('      (br_if $panelsDone (i32.ge_u (local.get $p) (local.get $panels)))');
  for (let r = 0; r < R; r++) {
    add(`      (local.set ${acc(r, 0)} (v128.const f32x4 0 0 0 0)) (local.set ${acc(r, 1)} (v128.const f32x4 0 0 0 0))`);
    add(`      (local.set $a${r} (i32.add (local.get $a) (i32.mul (i32.add (i32.mul (local.get $t) (i32.const ${R})) (i32.const ${r})) (local.get $aRow))))`);
  }
  add('      (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $bStride))))');
  add('      (local.set $n (local.get $k))');
  add('      (loop $step');
  add('        (local.set $b0 (v128.load offset=0 (local.get $bp))) (local.set $b1 (v128.load offset=16 (local.get $bp)))');
  for (let r = 0; r < R; r++) {
    add(`        (local.set $splat (v128.load32_splat (local.get $a${r}))) (local.set $a${r} (i32.add (local.get $a${r}) (local.get $aStep)))`);
    for (const h of [0, 1]) add(`        (local.set ${acc(r, h)} (f32x4.relaxed_madd (local.get $splat) (local.get $b${h}) (local.get ${acc(r, h)})))`);
  }
  add('        (local.set $bp (i32.add (local.get $bp) (i32.const 32)))');
  add('        (br_if $step (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))');
  add(`      (local.set $cp (i32.add (local.get $c) (i32.add (i32.mul (i32.mul (local.get $t) (i32.const ${R})) (local.get $ldc)) (i32.mul (local.get $p) (i32.const 32)))))`);
  for (let r = 0; r < R; r++) {
    for (const h of [0, 1]) {
      const at = `(i32.add (local.get $cp) (i32.add (i32.mul (i32.const ${r}) (local.get $ldc)) (i32.const ${16 * h})))`;
      add(`      (if (local.get $accumulate) (then (v128.store ${at} (f32x4.add (v128.load ${at}) (local.get ${acc(r, h)})))) (else (v128.store ${at} (local.get ${acc(r, h)}))))`);
    }
  }
  add('      (local.set $p (i32.add (local.get $p) (i32.const 1)))');
  add('      (br $panel)))');
  add('    (local.set $t (i32.add (local.get $t) (i32.const 1)))');
  add('    (br $tile)))');
  add(')');
  return lines.join('\n');
}

/** `pack(b, ldb, k, panels, out)`: the first `panels` * 8 columns of B (k rows, ldb bytes apart) as panels at out. */
const PACK = `(func (export "pack") (param $b i32) (param $ldb i32) (param $k i32) (param $panels i32) (param $out i32)
  (local $p i32) (local $src i32) (local $n i32)
  (block $panelsDone (loop $panel
    (br_if $panelsDone (i32.ge_u (local.get $p) (local.get $panels)))
    (local.set $src (i32.add (local.get $b) (i32.mul (local.get $p) (i32.const 32))))
    (local.set $n (local.get $k))
    (loop $row
      (v128.store offset=0 (local.get $out) (v128.load offset=0 (local.get $src)))
      (v128.store offset=16 (local.get $out) (v128.load offset=16 (local.get $src)))
      (local.set $out (i32.add (local.get $out) (i32.const 32)))
      (local.set $src (i32.add (local.get $src) (local.get $ldb)))
      (br_if $row (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $panel)))
)`;

/**
 * `packTransposed(s, lds, k, panels, out)`: the same panels for B = Sᵀ, S stored as rows of k
 * floats lds bytes apart: panel p takes its 8 columns from rows 8p .. 8p+7 of S, a float each.
 */
const PACK_TRANSPOSED = `(func (export "packTransposed") (param $s i32) (param $lds i32) (param $k i32) (param $panels i32) (param $out i32)
  (local $p i32) (local $src i32) (local $n i32)
  (block $panelsDone (loop $panel
    (br_if $panelsDone (i32.ge_u (local.get $p) (local.get $panels)))
    (local.set $src (i32.add (local.get $s) (i32.mul (i32.mul (local.get $p) (i32.const 8)) (local.get $lds))))
    (local.set $n (local.get $k))
    (loop $row
${Array.from({ length: PANEL }, (_, j) => `      (f32.store offset=${4 * j} (local.get $out) (f32.load (i32.add (local.get $src) (i32.mul (i32.const ${j}) (local.get $lds)))))`).join('\n')}
      (local.set $out (i32.add (local.get $out) (i32.const 32)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (br_if $row (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $panel)))
)`;

/** Floats a row-maximum step reads: four vectors, each with its own running maximum. */
export const ROW_MAX_STEP = 16;

/**
 * `rowMax(x, rows, cols, out)`: out[r] = max of row r of x (rows × cols, cols a multiple of 16).
 * The loss takes two row maxima per vocabulary block; tfjs's Max reduces one float at a time.
 */
const ROW_MAX = `(func (export "rowMax") (param $x i32) (param $rows i32) (param $cols i32) (param $out i32)
  (local $r i32) (local $n i32) (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
  (block $rowsDone (loop $row
    (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
    (local.set $m0 (v128.load offset=0 (local.get $x))) (local.set $m1 (v128.load offset=16 (local.get $x)))
    (local.set $m2 (v128.load offset=32 (local.get $x))) (local.set $m3 (v128.load offset=48 (local.get $x)))
    (local.set $x (i32.add (local.get $x) (i32.const 64)))
    (local.set $n (i32.sub (i32.div_u (local.get $cols) (i32.const 16)) (i32.const 1)))
    (block $colsDone (loop $step
      (br_if $colsDone (i32.eqz (local.get $n)))
      (local.set $m0 (f32x4.max (local.get $m0) (v128.load offset=0 (local.get $x))))
      (local.set $m1 (f32x4.max (local.get $m1) (v128.load offset=16 (local.get $x))))
      (local.set $m2 (f32x4.max (local.get $m2) (v128.load offset=32 (local.get $x))))
      (local.set $m3 (f32x4.max (local.get $m3) (v128.load offset=48 (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 64)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $step)))
    (local.set $m0 (f32x4.max (f32x4.max (local.get $m0) (local.get $m1)) (f32x4.max (local.get $m2) (local.get $m3))))
    (f32.store (local.get $out) (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m0)) (f32x4.extract_lane 1 (local.get $m0)))
                                         (f32.max (f32x4.extract_lane 2 (local.get $m0)) (f32x4.extract_lane 3 (local.get $m0)))))
    (local.set $out (i32.add (local.get $out) (i32.const 4)))
    (local.set $r (i32.add (local.get $r) (i32.const 1)))
    (br $row)))
)`;

/** The module: it computes in the memory of the wasm backend it is instantiated for (imported as env.memory). */
export function kernelSource(): string {
  const functions = Array.from({ length: TILE_ROWS }, (_, i) => tiles(i + 1));
  return [';; generated by model/kernels/source.ts; do not edit', '(module', '(import "env" "memory" (memory 1 65536))', ...functions, PACK, PACK_TRANSPOSED, ROW_MAX, ')', ''].join('\n');
}
