"""The data bench's reference: a shop CSV export to ChatGLM3 conversations JSONL
done by hand with pandas, as a user without glmflow would write it: read_csv,
label to role, drop system notices and empty or placeholder-only messages and
repeated rows, stable sort by session and time, merge consecutive same-role
turns, keep sessions with both sides, one JSON line per session.

usage: python3 bench/pandas_convert.py export.csv out.jsonl
prints {"rows", "sessions", "seconds" (after the imports, as glmflow's figure is after its own), "peakRssMb"}
"""
import json
import resource
import sys
import time

import pandas as pd

USER = ['客户', '买家', '顾客', '用户', '消费者', '会员', 'user', 'customer', 'buyer', 'client']
ASSISTANT = ['客服', '商家', '店小二', '卖家', '掌柜', '人工客服', '售前客服', '售后客服', 'assistant', 'agent', 'seller', 'shop', 'staff', 'support']
ROLES = {**{label: 'user' for label in USER}, **{label: 'assistant' for label in ASSISTANT}}
PLACEHOLDER_ONLY = r'(?:\s*\[(?:图片|表情|语音|视频|文件|动画表情)\])+\s*'


def main(src, dst):
    start = time.perf_counter()
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding='utf-8-sig')
    df.columns = ['session', 'customer', 'time', 'sender', 'content']
    rows = len(df)
    df = df[df['session'].str.strip() != '']
    df['role'] = df['sender'].str.strip().map(ROLES)
    df = df[df['role'].notna()]
    df['content'] = df['content'].str.replace('\r\n', '\n', regex=False).str.replace('\r', '\n', regex=False).str.strip()
    df = df[(df['content'] != '') & ~df['content'].str.fullmatch(PLACEHOLDER_ONLY)]
    df = df.sort_values(['session', 'time'], kind='stable')
    same = ['session', 'time', 'role', 'content']
    df = df[~(df[same] == df[same].shift()).all(axis=1)]
    # Consecutive same-role messages of a session become one turn; a session needs both sides.
    sessions = 0
    with open(dst, 'w', encoding='utf-8') as out:
        def write(session, turns):
            nonlocal sessions
            if len({role for role, _ in turns}) == 2:
                messages = [{'role': role, 'content': '\n'.join(texts)} for role, texts in turns]
                out.write(json.dumps({'session_id': session, 'conversations': messages}, ensure_ascii=False) + '\n')
                sessions += 1
        current, turns = None, []
        for session, role, content in zip(df['session'].tolist(), df['role'].tolist(), df['content'].tolist()):
            if session != current:
                if turns:
                    write(current, turns)
                current, turns = session, []
            if turns and turns[-1][0] == role:
                turns[-1][1].append(content)
            else:
                turns.append((role, [content]))
        if turns:
            write(current, turns)
    seconds = time.perf_counter() - start
    print(json.dumps({'rows': rows, 'sessions': sessions, 'seconds': seconds, 'peakRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
