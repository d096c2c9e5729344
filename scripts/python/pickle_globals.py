"""Lists every global a pickle of the common fitted estimators imports.

The platform policy's `allowed_types` (policy/platform.yaml) is this list, reviewed:
validate refuses a pickle that imports anything else. Run it with the template's
pinned scikit-learn after an upgrade and compare:

    python scripts/python/pickle_globals.py
"""

import io
import pickle
import sys

import joblib
import joblib.numpy_pickle as jnp
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier, GradientBoostingRegressor,
    HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge, RidgeClassifier, SGDClassifier,
    SGDRegressor,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MinMaxScaler, OneHotEncoder, OrdinalEncoder, PolynomialFeatures, RobustScaler, StandardScaler,
)
from sklearn.svm import SVC, SVR, LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

SMALL = {"n_estimators": 3}
CLASSIFIERS = [
    (LogisticRegression, {}), (RidgeClassifier, {}), (SGDClassifier, {}), (DecisionTreeClassifier, {}),
    (RandomForestClassifier, SMALL), (ExtraTreesClassifier, SMALL), (GradientBoostingClassifier, SMALL),
    (HistGradientBoostingClassifier, {"max_iter": 3}), (KNeighborsClassifier, {}), (SVC, {}),
    (LinearSVC, {}), (GaussianNB, {}),
]
REGRESSORS = [
    (LinearRegression, {}), (Ridge, {}), (Lasso, {}), (ElasticNet, {}), (SGDRegressor, {}),
    (DecisionTreeRegressor, {}), (RandomForestRegressor, SMALL), (ExtraTreesRegressor, SMALL),
    (GradientBoostingRegressor, SMALL), (HistGradientBoostingRegressor, {"max_iter": 3}),
    (KNeighborsRegressor, {}), (SVR, {}),
]


def fitted_models():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    binary, three, real = (x[:, 0] > 0).astype(int), rng.integers(0, 3, 60), x[:, 1] * 2.0
    for cls, kw in CLASSIFIERS:
        yield cls(**kw).fit(x, binary)
        yield cls(**kw).fit(x, three)
    for cls, kw in REGRESSORS:
        yield cls(**kw).fit(x, real)
    table = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y", "z"], 60), "c": rng.normal(size=60)})
    table.loc[3, "a"] = np.nan
    numeric = Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())])
    columns = ColumnTransformer(
        [("num", numeric, ["a", "c"]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["b"])]
    )
    yield Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(table, binary)
    ordinal = ColumnTransformer([("num", RobustScaler(), ["a", "c"]), ("cat", OrdinalEncoder(), ["b"])])
    steps = [("columns", ordinal), ("minmax", MinMaxScaler()), ("poly", PolynomialFeatures(2)), ("pca", PCA(2))]
    yield Pipeline([*steps, ("model", LogisticRegression())]).fit(table.fillna(0), binary)


def main() -> None:
    names: set[str] = set()

    def recording(base):
        class Recording(base):
            def find_class(self, module, name):
                # Python 3 reads protocol 0-2's __builtin__ as builtins, and so does the scanner.
                names.add(f"{'builtins' if module == '__builtin__' else module}.{name}")
                return super().find_class(module, name)

        return Recording

    for model in fitted_models():
        for protocol in (2, 4, 5):
            recording(pickle.Unpickler)(io.BytesIO(pickle.dumps(model, protocol=protocol))).load()
        dumped = io.BytesIO()
        joblib.dump(model, dumped)
        dumped.seek(0)
        recording(jnp.NumpyUnpickler)("model.joblib", dumped, ensure_native_byte_order=True).load()
    sys.stdout.write("".join(f"- {n}\n" for n in sorted(names)))


if __name__ == "__main__":
    main()
