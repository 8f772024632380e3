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
    X_train, X_test : array-like of shape (n, n_features)
        Imputed (complete) training and test data.
    y_train, y_test : array-like of shape (n,)
        Class labels.
    C : float, default=1.0
        Inverse L2 regularisation strength.
    max_iter : int, default=1000
        lbfgs iterations (MNIST pixels need several hundred to converge).
    random_state : int, RandomState or None, default=None
        Passed to ``LogisticRegression`` (lbfgs is deterministic; kept for solvers
        and future defaults that are not).

    Returns
    -------
    accuracy : float
        Fraction of test rows classified correctly.
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
    rbm : fitted estimator with ``transform_hidden``, or a fitted Pipeline
        In a Pipeline, the step named/indexed by ``step`` (default: the first step
        with ``transform_hidden``) is used after the steps before it transform ``X``.
    X_train, X_test : array-like of shape (n, n_features)
        Incomplete data, NaN = missing (the RBM handles the holes).
    y_train, y_test : array-like of shape (n,)
        Class labels.
    step : str or int, default=None
        Pipeline step holding the RBM.
    C, max_iter, random_state
        As in :func:`downstream_accuracy`.

    Returns
    -------
    accuracy : float
    """
    preprocess, model = split_at_step(rbm, step, "transform_hidden")
    H_train = model.transform_hidden(preprocess(X_train))
    H_test = model.transform_hidden(preprocess(X_test))
    return downstream_accuracy(H_train, y_train, H_test, y_test, C=C, max_iter=max_iter,
                               random_state=random_state)
