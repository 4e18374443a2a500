"The README's Python, run as a newcomer would paste it: in a fresh interpreter, nothing imported beforehand."
import re, subprocess, sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / 'README.md'

def test_readme_python_runs_as_shown(tmp_path):
    blocks = re.findall(r'```python\n(.*?)```', README.read_text(), re.S)
    assert len(blocks) >= 3, 'the README shows Python snippets'
    assert not any(line.startswith('#|') for b in blocks for line in b.splitlines()), 'no notebook directives shown'
    script = tmp_path / 'readme.py'
    script.write_text('\n'.join(blocks))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]

def test_the_package_offers_its_main_names():
    import shapley_cnn
    for name in ('exact_shapley', 'tmab_shapley', 'GloveGame', 'FilterGame', 'Experiment', 'knn_shapley'):
        assert name in shapley_cnn.__all__ and callable(getattr(shapley_cnn, name)), name
