"""A batch of A1 work for the similarity check: honest students who each wrote every graded function their
own way, and students who copied from them and disguised it.

Each graded function (the cs_lib stubs' "# TODO" + raise, and the notebook's solution cells) has
INDEPENDENT variants: correct implementations written differently (loops against vectorised code,
one-hot labels against fancy indexing, bincount against masks, ...). Honest student k uses variant k of
every function. A copier takes another student's files and disguises them:

    rename      every local variable renamed
    reorder     the functions (and classes) of every file in another order
    comments    the comments replaced by others
    whitespace  blank lines, spaces and line breaks changed
    all         all four at once

    files = student_files(variant=1)                      # {"cs_lib/...": text}
    files = student_files(variant=1, disguise="rename")
    cells = solution_cells(variant=1)                     # {grade id: cell source}
    notebook = solved_release(release_notebook, cells)
"""

import ast
import io
import re
import textwrap
import tokenize
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
A1_FILES = (
    "cs_lib/classifiers/linear_svm.py",
    "cs_lib/classifiers/softmax.py",
    "cs_lib/classifiers/linear_classifier.py",
    "cs_lib/features.py",
)
DISGUISES = ("rename", "reorder", "comments", "whitespace", "all")

# the stub's "# TODO" line (and the raise after it) each variant replaces, by file and function
TODO = {
    "cs_lib/classifiers/linear_svm.py": ("svm_loss_naive", "svm_loss_vectorized"),
    "cs_lib/classifiers/softmax.py": ("softmax_loss_naive", "softmax_loss_vectorized"),
    "cs_lib/classifiers/linear_classifier.py": (
        "LinearClassifier.train",
        "LinearClassifier.predict",
        "LinearSVM.loss",
        "Softmax.loss",
    ),
    "cs_lib/features.py": ("colour_histogram", "gradient_histogram"),
}

VARIANTS = {
    "svm_loss_naive": [
        """
        num_train = X.shape[0]
        num_classes = W.shape[1]
        for i in range(num_train):
            scores = X[i] @ W
            correct_class_score = scores[y[i]]
            for j in range(num_classes):
                if j == y[i]:
                    continue
                margin = scores[j] - correct_class_score + 1
                if margin > 0:
                    loss += margin
                    dW[:, j] += X[i]
                    dW[:, y[i]] -= X[i]
        loss /= num_train
        dW /= num_train
        loss += reg * np.sum(W * W)
        dW += 2 * reg * W
        """,
        """
        n = len(y)
        total = 0.0
        for idx, (row, label) in enumerate(zip(X, y)):
            s = W.T.dot(row)
            target = s[label]
            hits = 0
            for cls, value in enumerate(s):
                if cls != label and value - target + 1.0 > 0.0:
                    total = total + (value - target + 1.0)
                    dW[:, cls] = dW[:, cls] + row
                    hits += 1
            dW[:, label] = dW[:, label] - hits * row
        loss = total / n + reg * (W**2).sum()
        dW = dW / n + reg * 2.0 * W
        """,
        """
        N = X.shape[0]
        C = W.shape[1]
        S = np.dot(X, W)
        for c in range(C):
            for k in range(N):
                if c == y[k]:
                    continue
                gap = S[k, c] - S[k, y[k]] + 1
                if gap <= 0:
                    continue
                loss = loss + gap
                dW[:, c] += X[k, :]
                dW[:, y[k]] += -X[k, :]
        loss = loss / N
        loss = loss + reg * np.sum(np.square(W))
        dW = dW / N
        dW = dW + 2 * reg * W
        """,
    ],
    "svm_loss_vectorized": [
        """
        num_train = X.shape[0]
        rows = np.arange(num_train)
        scores = X @ W
        correct_class_scores = scores[rows, y][:, np.newaxis]
        margins = np.maximum(0, scores - correct_class_scores + 1)
        margins[rows, y] = 0
        loss = margins.sum() / num_train + reg * np.sum(W * W)
        active = (margins > 0).astype(W.dtype)
        active[rows, y] = -active.sum(axis=1)
        dW = X.T @ active / num_train + 2 * reg * W
        """,
        """
        n = X.shape[0]
        s = X.dot(W)
        true_scores = np.choose(y, s.T).reshape(-1, 1)
        hinge = np.clip(s - true_scores + 1.0, 0.0, None)
        hinge[np.arange(n), y] = 0.0
        loss = np.sum(hinge) / n + reg * np.sum(W**2)
        mask = np.where(hinge > 0, 1.0, 0.0)
        mask[np.arange(n), y] = -np.sum(mask, axis=1)
        dW = np.dot(X.T, mask) / n + 2.0 * reg * W
        """,
        """
        N, C = X.shape[0], W.shape[1]
        one_hot = np.eye(C, dtype=bool)[y]
        S = X @ W
        correct = S[one_hot]
        M = S - correct[:, None] + 1
        M[one_hot] = 0
        M = np.maximum(M, 0)
        loss = M.sum() / N
        loss += reg * (W * W).sum()
        G = (M > 0).astype(float)
        G -= one_hot * G.sum(axis=1, keepdims=True)
        dW = X.T.dot(G) / N + 2 * reg * W
        """,
    ],
    "softmax_loss_naive": [
        """
        num_train = X.shape[0]
        num_classes = W.shape[1]
        for i in range(num_train):
            scores = X[i] @ W
            scores = scores - scores.max()
            log_sum_exp = np.log(np.sum(np.exp(scores)))
            loss += log_sum_exp - scores[y[i]]
            probabilities = np.exp(scores - log_sum_exp)
            for j in range(num_classes):
                dW[:, j] += (probabilities[j] - (j == y[i])) * X[i]
        loss /= num_train
        dW /= num_train
        loss += reg * np.sum(W * W)
        dW += 2 * reg * W
        """,
        """
        n = X.shape[0]
        for i in range(n):
            z = X[i].dot(W)
            z -= np.max(z)
            e = np.exp(z)
            loss += np.log(e.sum()) - z[y[i]]
            p = e / np.sum(e)
            p[y[i]] -= 1.0
            dW += np.outer(X[i], p)
        loss = loss / n + reg * np.sum(W**2)
        dW = dW / n + 2 * reg * W
        """,
        """
        N = len(y)
        C = W.shape[1]
        for k in range(N):
            logits = np.array([X[k] @ W[:, c] for c in range(C)])
            shifted = logits - logits.max()
            norm = np.log(np.exp(shifted).sum())
            loss = loss + norm - shifted[y[k]]
            for c in range(C):
                prob = np.exp(shifted[c] - norm)
                if c == y[k]:
                    prob = prob - 1
                dW[:, c] = dW[:, c] + prob * X[k]
        loss = loss / N + reg * np.square(W).sum()
        dW = dW / N + reg * 2 * W
        """,
    ],
    "softmax_loss_vectorized": [
        """
        num_train = X.shape[0]
        rows = np.arange(num_train)
        scores = X @ W
        scores = scores - scores.max(axis=1, keepdims=True)
        log_sum_exp = np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
        log_probabilities = scores - log_sum_exp
        loss = -log_probabilities[rows, y].mean() + reg * np.sum(W * W)
        dscores = np.exp(log_probabilities)
        dscores[rows, y] -= 1
        dW = X.T @ dscores / num_train + 2 * reg * W
        """,
        """
        n = X.shape[0]
        z = X.dot(W)
        z -= z.max(axis=1)[:, np.newaxis]
        e = np.exp(z)
        p = e / e.sum(axis=1)[:, np.newaxis]
        loss = np.mean(np.log(e.sum(axis=1)) - z[np.arange(n), y]) + reg * np.sum(W**2)
        p[np.arange(n), y] -= 1.0
        dW = X.T.dot(p) / n + 2.0 * reg * W
        """,
        """
        N, C = X.shape[0], W.shape[1]
        S = X @ W
        S = S - np.amax(S, axis=1, keepdims=True)
        log_norm = np.log(np.exp(S).sum(axis=1))
        Y = np.zeros((N, C))
        Y[np.arange(N), y] = 1
        loss = (log_norm.sum() - (S * Y).sum()) / N
        loss += reg * (W * W).sum()
        P = np.exp(S - log_norm[:, None])
        dW = X.T @ (P - Y) / N
        dW += 2 * reg * W
        """,
    ],
    "LinearClassifier.train": [
        """
        indices = self.rng.integers(num_train, size=batch_size)
        X_batch = X[indices]
        y_batch = y[indices]
        loss, grad = self.loss(X_batch, y_batch, reg)
        loss_history.append(loss)
        self.W -= learning_rate * grad
        """,
        """
        batch = self.rng.integers(0, num_train, batch_size)
        value, gradient = self.loss(X[batch, :], y[batch], reg)
        self.W = self.W - learning_rate * gradient
        loss_history += [float(value)]
        """,
        """
        picks = self.rng.integers(low=0, high=num_train, size=(batch_size,))
        result = self.loss(np.take(X, picks, axis=0), np.take(y, picks), reg)
        loss_history.append(result[0])
        step = learning_rate * result[1]
        self.W = self.W - step
        """,
    ],
    "LinearClassifier.predict": [
        """
        y_pred = np.argmax(X @ self.W, axis=1)
        """,
        """
        scores = np.dot(X, self.W)
        y_pred = scores.argmax(axis=1)
        """,
        """
        for row_index, row in enumerate(np.asarray(X)):
            y_pred[row_index] = int(np.argmax(row @ self.W))
        """,
    ],
    "LinearSVM.loss": [
        """
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)
        """,
        """
        loss, dW = svm_loss_vectorized(self.W, X_batch, y_batch, reg=reg)
        return loss, dW
        """,
        """
        return svm_loss_vectorized(W=self.W, X=X_batch, y=y_batch, reg=reg)
        """,
    ],
    "Softmax.loss": [
        """
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
        """,
        """
        loss, dW = softmax_loss_vectorized(self.W, X_batch, y_batch, reg=reg)
        return loss, dW
        """,
        """
        return softmax_loss_vectorized(W=self.W, X=X_batch, y=y_batch, reg=reg)
        """,
    ],
    "colour_histogram": [
        """
        intervals = np.minimum((images * bins / 256).astype(np.int64), bins - 1)
        boxes = (intervals[:, 0] * bins + intervals[:, 1]) * bins + intervals[:, 2]
        for n in range(N):
            counts = np.bincount(boxes[n].ravel(), minlength=bins**3)
            histograms[n] = counts / boxes[n].size
        """,
        """
        for n in range(N):
            r = np.clip((images[n, 0] * bins // 256).astype(int), 0, bins - 1)
            g = np.clip((images[n, 1] * bins // 256).astype(int), 0, bins - 1)
            b = np.clip((images[n, 2] * bins // 256).astype(int), 0, bins - 1)
            index = r * bins * bins + g * bins + b
            for box in index.flat:
                histograms[n, box] += 1
            histograms[n] /= index.size
        """,
        """
        pixels = images.reshape(N, 3, -1)
        quantised = np.clip(np.floor(pixels * bins / 256.0), 0, bins - 1).astype(int)
        box = (quantised[:, 0] * bins + quantised[:, 1]) * bins + quantised[:, 2]
        for k in range(bins**3):
            histograms[:, k] = np.mean(box == k, axis=1)
        """,
    ],
    "gradient_histogram": [
        """
        grey = images.mean(axis=1)
        gx = np.zeros_like(grey)
        gy = np.zeros_like(grey)
        gx[:, :, 1:-1] = grey[:, :, 2:] - grey[:, :, :-2]
        gy[:, 1:-1, :] = grey[:, 2:, :] - grey[:, :-2, :]
        magnitude = np.sqrt(gx**2 + gy**2)
        orientation = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
        orientation_bin = np.minimum((orientation // (180.0 / num_orientations)).astype(np.int64), num_orientations - 1)
        for row in range(cells_down):
            for col in range(cells_across):
                rows = slice(row * cell_size, (row + 1) * cell_size)
                cols = slice(col * cell_size, (col + 1) * cell_size)
                for k in range(num_orientations):
                    in_bin = orientation_bin[:, rows, cols] == k
                    features[:, row, col, k] = np.sum(magnitude[:, rows, cols] * in_bin, axis=(1, 2))
        """,
        """
        grey = np.mean(images, axis=1)
        horizontal = np.zeros(grey.shape)
        vertical = np.zeros(grey.shape)
        horizontal[..., 1:-1] = grey[..., 2:] - grey[..., :-2]
        vertical[..., 1:-1, :] = grey[..., 2:, :] - grey[..., :-2, :]
        strength = np.hypot(horizontal, vertical)
        angle = np.rad2deg(np.arctan2(vertical, horizontal)) % 180.0
        which = np.minimum((angle * num_orientations / 180.0).astype(int), num_orientations - 1)
        for n in range(N):
            for r in range(cells_down):
                for c in range(cells_across):
                    window = (slice(r * cell_size, (r + 1) * cell_size), slice(c * cell_size, (c + 1) * cell_size))
                    features[n, r, c] = np.bincount(
                        which[n][window].ravel(), weights=strength[n][window].ravel(), minlength=num_orientations
                    )
        """,
        """
        grey = images.mean(axis=1)
        dx = np.zeros_like(grey)
        dy = np.zeros_like(grey)
        dx[:, :, 1 : W - 1] = grey[:, :, 2:W] - grey[:, :, 0 : W - 2]
        dy[:, 1 : H - 1, :] = grey[:, 2:H, :] - grey[:, 0 : H - 2, :]
        mag = np.sqrt(dx * dx + dy * dy)
        theta = np.degrees(np.arctan2(dy, dx))
        theta = np.where(theta < 0, theta + 180.0, theta)
        theta = np.where(theta >= 180.0, theta - 180.0, theta)
        k = np.clip(np.floor(theta / (180.0 / num_orientations)), 0, num_orientations - 1).astype(int)
        blocks_mag = mag.reshape(N, cells_down, cell_size, cells_across, cell_size)
        blocks_k = k.reshape(N, cells_down, cell_size, cells_across, cell_size)
        for o in range(num_orientations):
            features[..., o] = (blocks_mag * (blocks_k == o)).sum(axis=(2, 4))
        """,
    ],
}

# the notebook's solution cells: the release cell's "# YOUR CODE HERE" + raise replaced (search), or the
# whole cell written (best_svm, best_softmax)
CELL_VARIANTS = {
    "search": [
        """
        best_val = -1.0
        for learning_rate in learning_rates:
            for reg in regs:
                classifier = classifier_class(seed=0)
                classifier.train(
                    X_train, y_train, learning_rate=learning_rate, reg=reg, num_iters=num_iters, batch_size=batch_size
                )
                train_accuracy = np.mean(classifier.predict(X_train) == y_train)
                val_accuracy = np.mean(classifier.predict(X_val) == y_val)
                results[(learning_rate, reg)] = (train_accuracy, val_accuracy)
                if val_accuracy > best_val:
                    best_val, best_classifier = val_accuracy, classifier
        """,
        """
        import itertools

        scored = []
        for lr, strength in itertools.product(learning_rates, regs):
            model = classifier_class(seed=0)
            model.train(X_train, y_train, lr, strength, num_iters, batch_size)
            accuracies = tuple(float((model.predict(A) == b).mean()) for A, b in ((X_train, y_train), (X_val, y_val)))
            results[lr, strength] = accuracies
            scored.append((accuracies[1], len(scored), model))
        best_classifier = max(scored)[2] if scored else None
        """,
        """
        top = None
        grid = [(a, b) for a in learning_rates for b in regs]
        while grid:
            rate, penalty = grid.pop(0)
            candidate = classifier_class(seed=0)
            candidate.train(X_train, y_train, learning_rate=rate, reg=penalty, num_iters=num_iters, batch_size=batch_size)
            on_train = np.sum(candidate.predict(X_train) == y_train) / len(y_train)
            on_val = np.sum(candidate.predict(X_val) == y_val) / len(y_val)
            results[(rate, penalty)] = (on_train, on_val)
            if top is None or on_val > top:
                top = on_val
                best_classifier = candidate
        """,
    ],
    "best_svm": [
        'best_svm = {"learning_rate": 1e-2, "reg": 1e-2}',
        "best_svm = dict(learning_rate=0.01, reg=0.01)",
        "rate = 1e-2\nbest_svm = {'learning_rate': rate, 'reg': rate}",
    ],
    "best_softmax": [
        'best_softmax = {"learning_rate": 3e-1, "reg": 1e-3}',
        "best_softmax = dict(learning_rate=0.3, reg=0.001)",
        "best_softmax = {'learning_rate': 0.3, 'reg': 1e-3}",
    ],
}
NUMBER_OF_VARIANTS = 3


def stub(name):
    return (REPO / name).read_text()


def _fill(stub_text, qualified, body):
    """stub_text with the '# TODO' line and the raise after it in `qualified` (func or Class.func) replaced by body."""
    tree = ast.parse(stub_text)
    owner, _, function = qualified.rpartition(".")
    scope = tree.body
    if owner:
        scope = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == owner).body
    node = next(node for node in scope if isinstance(node, ast.FunctionDef) and node.name == function)
    lines = stub_text.splitlines(keepends=True)
    start = next(i for i in range(node.lineno - 1, node.end_lineno) if lines[i].strip().startswith("# TODO"))
    raise_node = next(
        n for n in ast.walk(node) if isinstance(n, ast.Raise) and n.lineno - 1 > start and n.lineno - 1 <= start + 1
    )
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    code = textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", indent)
    return "".join(lines[:start]) + code + "".join(lines[raise_node.end_lineno :])


def _locals(body):
    """Names the body binds (assignment and loop targets, comprehension variables), in order of appearance."""
    found = []
    tree = ast.parse("def _body():\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    "))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in found:
            found.append(node.id)
    return found


# names the stubs define and read after the student's code (renaming them would change what is returned)
KEPT = {"loss", "dW", "histograms", "features", "y_pred", "results", "best_classifier", "loss_history", "_"}


def rename(body):
    """body with every local variable it binds renamed, consistently (tokens, so strings and attributes stay)."""
    mapping = {name: f"{name}_value" if len(name) > 1 else f"{name}{name}_v" for name in _locals(body)}
    mapping = {old: new for old, new in mapping.items() if old not in KEPT}
    tokens = list(tokenize.generate_tokens(io.StringIO(textwrap.dedent(body)).readline))
    out = []
    depth = 0
    for index, token in enumerate(tokens):
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        previous = tokens[index - 1].string if index else ""
        following = tokens[index + 1].string if index + 1 < len(tokens) else ""
        keyword_argument = depth > 0 and following == "=" and previous in ("(", ",")
        if token.type == tokenize.NAME and token.string in mapping and previous != "." and not keyword_argument:
            token = token._replace(string=mapping[token.string])
        out.append(token)
    return tokenize.untokenize(out)


def recomment(text):
    """text with every comment removed and a different one written above each loop and return."""
    out = []
    for line in text.splitlines():
        code = line.split("#", 1)[0].rstrip() if "#" in line and '"' not in line and "'" not in line else line
        stripped = code.strip()
        indent = code[: len(code) - len(code.lstrip())]
        if stripped.startswith(("for ", "while ")):
            out.append(f"{indent}# go through them one at a time (my own note)")
        elif stripped.startswith("return "):
            out.append(f"{indent}# hand the answer back")
        if stripped or not line.strip().startswith("#"):
            out.append(code)
    return "\n".join(out) + "\n"


def respace(text):
    """text with blank lines after every statement of a function body and spaces inside brackets and after commas."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", '"', "'")) and line.startswith("    "):
            line = re.sub(r",(?=\S)", ", ", line)
            line = line.replace("(", "( ").replace(")", " )") if '"' not in line and "'" not in line else line
            out += [line + "  ", ""]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def reorder(text):
    """text with its top-level functions and classes in the reverse order (imports and constants first)."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    blocks = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            blocks.append((start, node.end_lineno))
    if len(blocks) < 2:
        return text
    head = "".join(lines[: blocks[0][0]])
    pieces = ["".join(lines[start:end]).rstrip("\n") + "\n" for start, end in blocks]
    if "class " in pieces[0] and any("class " in piece for piece in pieces[1:]):
        # a base class has to come before its subclasses: keep it first, reverse the rest
        pieces = [pieces[0], *reversed(pieces[1:])]
    else:
        pieces = list(reversed(pieces))
    return head + "\n\n".join(pieces) + "".join(lines[blocks[-1][1] :])


def _body(function, variant, disguise, mutate=None):
    """The function's code in `variant` (an index, or {function: index}), disguised; mutate(function, body) may
    rewrite it further (the benchmark makes every synthetic student different with it)."""
    index = variant[function] if isinstance(variant, dict) else variant
    body = VARIANTS[function][index] if function in VARIANTS else CELL_VARIANTS[function][index]
    body = textwrap.dedent(body).strip("\n") + "\n"
    if mutate is not None:
        body = mutate(function, body)
    if disguise in ("rename", "all"):
        body = rename(body)
    return body


def student_files(variant, disguise=None, only=None, mutate=None):
    """{"cs_lib/...": text}: the A1 stubs with every TODO filled by `variant` (or only the functions in `only`)."""
    files = {}
    for name in A1_FILES:
        text = stub(name)
        for function in TODO[name]:
            if only is None or function in only:
                text = _fill(text, function, _body(function, variant, disguise, mutate))
        if disguise in ("reorder", "all"):
            text = reorder(text)
        if disguise in ("comments", "all"):
            text = recomment(text)
        if disguise in ("whitespace", "all"):
            text = respace(text)
        files[name] = text
    return files


def solution_cells(release, variant, disguise=None, mutate=None):
    """{grade id: source} of the notebook's solution code cells written with `variant`."""
    cells = {}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.cell_type != "code" or not meta.get("solution") or grade_id not in CELL_VARIANTS:
            continue
        body = _body(grade_id, variant, disguise, mutate)
        if "# YOUR CODE HERE" in cell.source and cell.source.strip() != "# YOUR CODE HERE\nraise NotImplementedError()":
            lines = cell.source.splitlines(keepends=True)
            start = next(i for i, line in enumerate(lines) if "# YOUR CODE HERE" in line)
            indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
            source = "".join(lines[:start]) + textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", indent)
            source += "".join(lines[start + 2 :])
        else:
            source = textwrap.dedent(body).strip("\n") + "\n"
        if disguise in ("comments", "all"):
            source = recomment(source)
        if disguise in ("whitespace", "all"):
            source = respace(source)
        cells[grade_id] = source
    return cells


def solved_release(release, cells):
    """A copy of the release notebook with these solution cells' sources."""
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in cells:
            cell.source = cells[grade_id]
    return notebook


def write_submission(course_dir, student, files, notebook, assignment_id="a1"):
    """submitted/<student>/<assignment>/ as `collect` writes it: the notebook and _student_files/cs_lib/..."""
    folder = Path(course_dir) / "submitted" / student / assignment_id
    for name, text in files.items():
        path = folder / "_student_files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    nbformat.write(notebook, str(folder / "linear_classifiers.ipynb"))
    (folder / "timestamp.txt").write_text("2025-10-01 12:00:00.000000 UTC")
    return folder
