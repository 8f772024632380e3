"""Downstream classification accuracy of imputed data and of RBM hidden features."""

from sklearn.linear_model import LogisticRegression

from ._estimators import split_at_step


def downstream_accuracy(X_train, y_train, X_test, y_test, *, C=1.0, max_iter=1000,
                        random_state=None):
    """Accuracy of a multinomial logistic regression fit on imputed training data.

    The paper's downstream task: fit ``LogisticRegression`` (lbfgs, multinomial loss)
    on the imputed training set and report its accuracy on the imputed test set.
    For tuning inside a search, use ``Pipeline([imputer, LogisticRegression()])``
    with ``scoring="accuracy"`` instead.

    Parameters
    ----------
    X_train : array-like of shape (n_train, n_features)
        Imputed (complete) training data.
    y_train : array-like of shape (n_train,)
        Training labels.
    X_test : array-like of shape (n_test, n_features)
        Imputed (complete) test data.
    y_test : array-like of shape (n_test,)
        Test labels.
    C : float, default=1.0
        Inverse L2 regularisation strength.
    max_iter : int, default=1000
        Iterations of lbfgs (MNIST pixels need several hundred to converge).
    random_state : int, RandomState or None, default=None
        Passed to ``LogisticRegression`` (lbfgs is deterministic; kept for solvers
        and future defaults that are not).

    Returns
    -------
    accuracy : float
        Fraction of test rows classified correctly.

    Examples
    --------
    >>> from skrbm_impute.datasets import load_digits_01
    >>> from skrbm_impute.metrics import downstream_accuracy
    >>> X, y = load_digits_01()
    >>> accuracy = downstream_accuracy(X[:1000], y[:1000], X[1000:], y[1000:])
    >>> accuracy > 0.85
    True
    """
    classifier = LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)
    classifier.fit(X_train, y_train)
    return float(classifier.score(X_test, y_test))


def hidden_accuracy(rbm, X_train, y_train, X_test, y_test, *, step=None, C=1.0,
                    max_iter=1000, random_state=None):
    """Downstream accuracy on a fitted RBM's hidden features (the paper's "RBM †").

    ``rbm.transform_hidden`` maps the incomplete (NaN) training and test data to
    hidden probabilities; a logistic regression is fit and scored on them as in
    :func:`downstream_accuracy`.

    Parameters
    ----------
    rbm : estimator
        A fitted estimator with ``transform_hidden``, or a fitted Pipeline holding one:
        then the step named or indexed by ``step`` (default: the first step with
        ``transform_hidden``) is used after the steps before it transform ``X``.
    X_train : array-like of shape (n_train, n_features)
        Incomplete training data, NaN = missing (the RBM handles the holes).
    y_train : array-like of shape (n_train,)
        Training labels.
    X_test : array-like of shape (n_test, n_features)
        Incomplete test data, NaN = missing.
    y_test : array-like of shape (n_test,)
        Test labels.
    step : str or int, default=None
        Pipeline step holding the RBM.
    C : float, default=1.0
        As in :func:`downstream_accuracy`.
    max_iter : int, default=1000
        As in :func:`downstream_accuracy`.
    random_state : int, RandomState or None, default=None
        As in :func:`downstream_accuracy`.

    Returns
    -------
    accuracy : float
        Fraction of test rows classified correctly from their hidden features.

    Examples
    --------
    >>> from skrbm_impute import LMRBMImputer, apply_mask, independent_mask
    >>> from skrbm_impute.datasets import load_digits_01
    >>> from skrbm_impute.metrics import hidden_accuracy
    >>> X, y = load_digits_01()
    >>> X_missing = apply_mask(X, independent_mask(len(X), (8, 8), rate=0.3, random_state=0))
    >>> rbm = LMRBMImputer(n_components=64, n_epochs=5, random_state=0).fit(X_missing[:1000])
    >>> accuracy = hidden_accuracy(rbm, X_missing[:1000], y[:1000], X_missing[1000:], y[1000:])
    >>> 0.0 <= accuracy <= 1.0
    True
    """
    preprocess, model = split_at_step(rbm, step, "transform_hidden")
    H_train = model.transform_hidden(preprocess(X_train))
    H_test = model.transform_hidden(preprocess(X_test))
    return downstream_accuracy(H_train, y_train, H_test, y_test, C=C, max_iter=max_iter,
                               random_state=random_state)
