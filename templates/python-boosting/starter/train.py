"""Trains the starter model and saves it as LightGBM's text model (model.txt).

Replace the data loading and the parameters with your own; keep the feature names
and order in step with `inputs` in paved.yaml (the model stores its feature names,
and the runtime checks them against `inputs` at start). Run it in the exact Python
environment the python-boosting image serves with (same interpreter, same pins):

    npx paved train .

XGBoost instead: train an xgboost.Booster (or XGBClassifier, then .get_booster()) on a
DataFrame with these columns and save it with booster.save_model("model.ubj"), then
set `artifact: model.ubj` and `requirements: [xgboost-cpu==3.2.0]` in paved.yaml.
Never pickle a booster: this template does not load pickles.
"""
import lightgbm
import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklego.datasets import load_arrests

SEED = 42
FEATURES = ["age", "employed", "citizen", "checks", "year"]

df = load_arrests(as_frame=True)
X = df[FEATURES].replace({"Yes": 1.0, "No": 0.0}).astype(np.float32)
y = (df["released"] == "Yes").astype(int).to_numpy()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)

params = {
    "objective": "binary",  # "multiclass" with num_class=K, or "regression", serve the same way
    "num_leaves": 15,
    "learning_rate": 0.05,
    "is_unbalance": True,
    "seed": SEED,
    "deterministic": True,
    "num_threads": 1,
    "verbose": -1,
}
# A DataFrame, so the saved model names its features and the runtime can check them.
booster = lightgbm.train(params, lightgbm.Dataset(X_train, label=y_train), num_boost_round=100)
labels = (booster.predict(X_test) > 0.5).astype(int)
print(f"held-out accuracy {accuracy_score(y_test, labels):.3f}")
booster.save_model("model.txt")
